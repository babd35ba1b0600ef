import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { withAdmin } from '../../src/lib/kafka/admin.js';

const SERVICES = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
const run = promisify(execFile);

export type NodeId = 1 | 2 | 3;
export const NODES: readonly NodeId[] = [1, 2, 3];

/**
 * A private 3-broker KRaft cluster (scripts/services.sh cluster-up) for one test file: RF 3,
 * min.insync.replicas 2, its own ports (from `basePort`) and directory. Nodes are killed, frozen and
 * restarted through their real processes.
 */
export interface KafkaCluster {
  brokers: string[];
  /** The broker address of node n. */
  address(n: NodeId): string;
  /** The node that listens on a broker address (a leader or coordinator as kafkajs reports it). */
  nodeOfPort(port: number): NodeId;
  pid(n: NodeId): number;
  /** SIGKILL, and wait until the process is gone. */
  kill(n: NodeId): Promise<void>;
  freeze(n: NodeId): void;
  thaw(n: NodeId): void;
  /** Start a killed node again; resolves once it serves clients. */
  restart(n: NodeId): Promise<void>;
  /** The active KRaft controller (the quorum leader). */
  controller(): Promise<NodeId>;
  stop(): Promise<void>;
}

export async function startCluster(options: {
  basePort: number;
  brokerSessionMs?: number;
}): Promise<KafkaCluster> {
  const dir = `/tmp/kafka-cluster-${randomBytes(4).toString('hex')}`;
  const env = {
    ...process.env,
    SERVICES_DIR: dir,
    KAFKA_CLUSTER_PORT: String(options.basePort),
    ...(options.brokerSessionMs ? { KAFKA_CLUSTER_BROKER_SESSION_MS: String(options.brokerSessionMs) } : {}),
  };
  const services = (...args: string[]) => run('bash', [SERVICES, ...args], { env, timeout: 180_000 });
  const port = (n: NodeId) => options.basePort + 2 * (n - 1);
  const address = (n: NodeId) => `127.0.0.1:${port(n)}`;
  const pid = (n: NodeId) => Number(readFileSync(`${dir}/cluster/node${n}/kafka.pid`, 'utf8').trim());
  await services('cluster-up');
  const signal = (n: NodeId, sig: NodeJS.Signals) => process.kill(pid(n), sig);
  return {
    brokers: NODES.map(address),
    address,
    nodeOfPort(p) {
      const n = NODES.find((m) => port(m) === p);
      if (!n) throw new Error(`port ${p} is not a node of this cluster`);
      return n;
    },
    pid,
    async kill(n) {
      const p = pid(n);
      process.kill(p, 'SIGKILL');
      for (let i = 0; i < 100 && alive(p); i++) await new Promise((r) => setTimeout(r, 50));
    },
    freeze: (n) => signal(n, 'SIGSTOP'),
    thaw: (n) => signal(n, 'SIGCONT'),
    async restart(n) {
      await services('cluster-node-up', String(n));
    },
    async controller() {
      const { stdout } = await services(
        'kafka-run',
        'org.apache.kafka.tools.MetadataQuorumCommand',
        '--bootstrap-server',
        NODES.map(address).join(','),
        'describe',
        '--status',
      );
      const leader = /LeaderId:\s*(\d+)/.exec(stdout)?.[1];
      if (!leader) throw new Error(`no quorum leader in:\n${stdout}`);
      return Number(leader) as NodeId;
    },
    async stop() {
      await services('cluster-down').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The node id leading a partition, as the cluster's metadata says now. */
export async function leaderOf(kafka: Kafka, topic: string, partition: number): Promise<number> {
  return withAdmin(kafka, async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const p = topics[0]?.partitions.find((x) => x.partitionId === partition);
    if (!p) throw new Error(`no metadata for ${topic}/${partition}`);
    return p.leader;
  });
}

/** Java's String.hashCode, which Kafka uses to place a group on a partition of __consumer_offsets. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** The broker coordinating a consumer group: the leader of its __consumer_offsets partition. */
export async function coordinatorOf(kafka: Kafka, groupId: string): Promise<number> {
  return withAdmin(kafka, async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
    const partitions = topics[0]!.partitions;
    const partition = (javaHash(groupId) & 0x7fffffff) % partitions.length;
    return partitions.find((p) => p.partitionId === partition)!.leader;
  });
}
