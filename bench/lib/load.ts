import http from 'node:http';

/** What an open-loop run at a fixed arrival rate saw. */
export interface OpenLoopResult {
  offered: number;
  /** Requests whose send time came within the run (rate x seconds). */
  sent: number;
  /** Answered with the expected status. */
  ok: number;
  /** Answered with another status, a network error, or not answered within the timeout. */
  failed: number;
  /** Answered (ok) later than `lateMs` after it was due. */
  late: number;
  /** Latency of the ok answers, from the moment each request was DUE (not sent): ms. */
  p50: number;
  p99: number;
  max: number;
  /** How late the generator itself sent requests (p99, ms): high means the generator, not the server, fell behind. */
  sendLagP99: number;
  /** The first failure's description, if any. */
  firstFailure?: string;
  /** CPU this process (the load generator) used, seconds. */
  generatorCpuSeconds: number;
}

export interface OpenLoopOptions {
  /** Requests per second, arriving at fixed intervals whatever the answers do. */
  rate: number;
  seconds: number;
  /** Builds request i: path and JSON body. */
  request: (i: number) => { path: string; body: unknown; headers?: Record<string, string> };
  expectStatus: number;
  /** An answer later than this counts as late (default 1 s). */
  lateMs?: number;
  /** A request not answered by then is aborted and counted as failed (default 5 s). */
  timeoutMs?: number;
  /** Sockets at most (requests beyond wait for one, their wait counted in their latency). */
  maxSockets?: number;
}

/**
 * An open-loop load generator: request i is due at start + i/rate, and is sent then whether or not the
 * earlier ones were answered (a closed-loop tool such as autocannon waits for an answer before the
 * next request on a connection, so a slow server lowers the rate it is offered and its queueing never
 * shows: coordinated omission). Latency runs from the due time, so a request the generator itself sent
 * late, or that waited for a free socket, counts its wait. node:http with a keep-alive agent: cheaper
 * per request than fetch, so the generator's own CPU (reported) stays a small share.
 */
export async function openLoop(baseUrl: string, options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { rate, seconds, expectStatus } = options;
  const lateMs = options.lateMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 });
  const url = new URL(baseUrl);
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const lags: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  const fail = (why: string) => {
    failed++;
    firstFailure ??= why;
  };
  const cpu0 = process.cpuUsage();
  const inFlight: Array<Promise<void>> = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    lags.push(Math.max(0, performance.now() - due));
    const { path, body, headers } = options.request(i);
    const payload = JSON.stringify(body);
    inFlight.push(
      new Promise<void>((resolve) => {
        const req = http.request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path,
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(payload),
              ...headers,
            },
            timeout: timeoutMs,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              if (res.statusCode === expectStatus) latencies.push(performance.now() - due);
              else fail(`answered ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`);
              resolve();
            });
            res.on('error', (err) => (fail(err.message), resolve()));
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', (err) => (fail(err.message), resolve()));
        req.end(payload);
      }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  const quantile = (xs: number[], q: number) => (xs.length === 0 ? NaN : xs[Math.ceil(q * xs.length) - 1]!);
  const at = (q: number) => quantile(latencies, q);
  return {
    offered: rate,
    sent: total,
    ok: latencies.length,
    failed,
    late: latencies.filter((ms) => ms > lateMs).length,
    p50: at(0.5),
    p99: at(0.99),
    max: latencies.at(-1) ?? NaN,
    sendLagP99: quantile(lags, 0.99),
    ...(firstFailure ? { firstFailure } : {}),
    generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
