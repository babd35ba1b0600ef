import type { Kafka } from 'kafkajs';
import { withAdmin } from '../../src/lib/kafka/admin.js';
import { leaderOf, type NodeId } from './kafka-cluster.js';
import { eventually } from './wait.js';

/**
 * Creates a topic whose partition p has the replicas `assignment[p]` and waits until each is led by
 * its first replica (KRaft elects the first live in-sync replica in assignment order, so tests know
 * where leadership goes when a broker dies). Not kafkajs's waitForLeaders: right after createTopics
 * a broker may not host the partitions yet and it fails instead of waiting.
 */
export async function createAssignedTopic(
  kafka: Kafka,
  topic: string,
  assignment: NodeId[][],
): Promise<void> {
  await withAdmin(kafka, (admin) =>
    admin.createTopics({
      waitForLeaders: false,
      topics: [
        { topic, replicaAssignment: assignment.map((replicas, partition) => ({ partition, replicas })) },
      ],
    }),
  );
  await eventually(async () => {
    for (const [p, replicas] of assignment.entries())
      if ((await leaderOf(kafka, topic, p)) !== replicas[0]) return false;
    return true;
  }, 30_000);
}
