import { Partitioners } from './kafkajs.js';

const choose = Partitioners.DefaultPartitioner();

/**
 * The partition a message with this key goes to on a topic of `partitions` partitions: what kafkajs'
 * default (murmur2, Java-compatible) partitioner picks, which the relay's producer uses
 * (acknowledged-send.ts pinningPartitioner). A key's partition depends only on the key and the count.
 */
export function partitionOfKey(key: string, partitions: number): number {
  return choose({
    topic: '',
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [],
      isr: [],
    })),
    message: { key, value: null },
  });
}
