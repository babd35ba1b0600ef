import { describe, expect, it } from 'vitest';
import type { TopicPartitionOffsetAndMetadata } from 'kafkajs';
import { OffsetCommitter } from '../../src/jobs/collector/offset-committer.js';

type Offsets = TopicPartitionOffsetAndMetadata[];
const at = (partition: number, offset: number) => ({ topic: 't', partition, offset: String(offset) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OffsetCommitter', () => {
  it('commits once per interval, the latest offset of each partition', async () => {
    const commits: Offsets[] = [];
    const committer = new OffsetCommitter(
      async (o) => commits.push(o),
      () => undefined,
      20,
    );
    committer.add(at(0, 1));
    committer.add(at(1, 5));
    committer.add(at(0, 3));
    expect(commits).toEqual([]);
    await sleep(60);
    expect(commits).toEqual([[at(0, 3), at(1, 5)]]);
    committer.add(at(0, 4));
    await sleep(60);
    expect(commits).toEqual([[at(0, 3), at(1, 5)], [at(0, 4)]]);
  });

  it('flush commits at once, after the commit in flight: never two at once, offsets only forward', async () => {
    const commits: Offsets[] = [];
    let inFlight = 0;
    let overlapped = false;
    const committer = new OffsetCommitter(
      async (o) => {
        overlapped ||= ++inFlight > 1;
        await sleep(15);
        commits.push(o);
        inFlight--;
      },
      () => undefined,
      1_000,
    );
    committer.add(at(0, 1));
    const first = committer.flush();
    committer.add(at(0, 2));
    const second = committer.flush();
    await Promise.all([first, second]);
    expect(overlapped).toBe(false);
    expect(commits).toEqual([[at(0, 1)], [at(0, 2)]]);
    await committer.flush(); // nothing pending: nothing sent
    expect(commits).toHaveLength(2);
  });

  it('a failed commit goes to onError, never thrown; the next one carries later offsets', async () => {
    const errors: unknown[] = [];
    const commits: Offsets[] = [];
    let fail = true;
    const committer = new OffsetCommitter(
      async (o) => {
        if (fail) throw new Error('rebalance in progress');
        commits.push(o);
      },
      (err) => errors.push(err),
      1_000,
    );
    committer.add(at(2, 7));
    await expect(committer.flush()).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    fail = false;
    committer.add(at(2, 9));
    await committer.flush();
    expect(commits).toEqual([[at(2, 9)]]);
  });
});
