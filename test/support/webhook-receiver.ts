import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { WEBHOOK_HEADERS, WHSEC_PREFIX } from '../../src/jobs/collector/webhook/signature.js';
import type { DomainEvent } from '../../src/lib/events/index.js';

export interface ReceivedRequest {
  /** The webhook-id header (the event id: what receivers dedupe on). */
  eventId: string;
  eventType: string;
  /** The body's CloudEvents `data`: the event's envelope. */
  event: DomainEvent;
  headers: IncomingHttpHeaders;
  body: string;
  /**
   * The request checked as a real receiver would: Standard Webhooks' reference library verifies the
   * signature with the receiver's secret (a plain secret in its whsec_ form) and the timestamp.
   */
  verified: boolean;
  /** What the receiver answered (a status, or how it failed the request). */
  answer: Answer;
}

/** What to do with one request: answer a status (optionally after a delay), or fail the connection. */
export type Answer =
  | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  | { reset: true }
  | { hang: true };

export interface WebhookReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** The most requests that were being handled at once. */
  maxInFlight: number;
  inFlight: number;
  /** Requests whose client went away before an answer (an aborted or timed-out request). */
  clientAborts: number;
  respond: (request: Omit<ReceivedRequest, 'answer'>) => Answer;
  close: () => Promise<void>;
}

/** A real HTTP webhook receiver on 127.0.0.1 (node:http) that records and verifies what it gets. */
export async function startWebhookReceiver(
  secret: string,
  respond: WebhookReceiver['respond'] = () => ({ status: 200 }),
  port = 0,
): Promise<WebhookReceiver> {
  const verifier = new Webhook(
    secret.startsWith(WHSEC_PREFIX) ? secret : WHSEC_PREFIX + Buffer.from(secret, 'utf8').toString('base64'),
  );
  const verify = (headers: IncomingHttpHeaders, body: string) => {
    try {
      verifier.verify(body, headers as Record<string, string>);
      return true;
    } catch {
      return false;
    }
  };
  const sockets = new Set<Socket>();
  const receiver: WebhookReceiver = {
    url: '',
    port: 0,
    requests: [],
    maxInFlight: 0,
    inFlight: 0,
    clientAborts: 0,
    respond,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    receiver.inFlight += 1;
    receiver.maxInFlight = Math.max(receiver.maxInFlight, receiver.inFlight);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      receiver.inFlight -= 1;
    };
    res.on('close', () => {
      if (!res.writableFinished && !resetByUs.has(req.socket)) receiver.clientAborts += 1;
      finish();
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const event = dataOf(body);
      const seen = {
        eventId: String(req.headers[WEBHOOK_HEADERS.id]),
        eventType: String(event?.eventType),
        event: event!,
        headers: req.headers,
        body,
        verified: verify(req.headers, body),
      };
      const answer = receiver.respond(seen);
      receiver.requests.push({ ...seen, answer });
      answerWith(res, req.socket, answer, finish);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks/commerce`;
  return receiver;
}

/** The envelope in a structured-mode CloudEvent body (undefined if the body is not one). */
function dataOf(body: string): DomainEvent | undefined {
  try {
    return (JSON.parse(body) as { data?: DomainEvent }).data;
  } catch {
    return undefined;
  }
}

/** Sockets the receiver reset itself: their requests were not given up by the client. */
const resetByUs = new WeakSet<Socket>();

function answerWith(res: ServerResponse, socket: Socket, answer: Answer, finish: () => void): void {
  if ('reset' in answer) {
    resetByUs.add(socket);
    // A connection reset by the peer: RST instead of a response.
    socket.resetAndDestroy();
    finish();
    return;
  }
  if ('hang' in answer) return;
  const send = () => {
    if (res.destroyed) return;
    res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
    res.end(answer.body ?? '');
  };
  if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
  else send();
}
