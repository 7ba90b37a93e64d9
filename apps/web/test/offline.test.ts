import { describe, expect, it } from 'vitest';
import { isRetryLater } from '../src/lib/format';
import { createReplayer, MAX_QUEUED_WRITES, memoryQueue, type QueuedWrite } from '../src/lib/offline';

const METRIC = '00000000-0000-4000-8000-000000000001';

function write(n: number): QueuedWrite {
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return {
    id,
    kind: 'entries.create',
    input: { id, metricId: METRIC, value: n, date: '2026-01-01' },
    queuedAt: n,
  };
}

const offline = Object.assign(new TypeError('Failed to fetch'), {});
const isNetwork = (error: unknown) => error === offline;

describe('the offline queue', () => {
  it('replays writes in the order they were made and empties the queue', async () => {
    const queue = memoryQueue();
    for (const n of [3, 1, 2]) await queue.add(write(n));
    const sent: number[] = [];
    const outcome = await createReplayer(queue, async (w) => sent.push(w.queuedAt), isNetwork)();
    expect(sent).toEqual([1, 2, 3]);
    expect(outcome).toEqual({ sent: 3, refused: [], interrupted: false });
    expect(await queue.list()).toEqual([]);
  });

  it('stops at a network failure and keeps that write and the rest for the next attempt', async () => {
    const queue = memoryQueue();
    for (const n of [1, 2, 3]) await queue.add(write(n));
    let calls = 0;
    const outcome = await createReplayer(
      queue,
      async () => {
        calls += 1;
        if (calls === 2) throw offline;
      },
      isNetwork,
    )();
    expect(outcome).toMatchObject({ sent: 1, interrupted: true });
    expect((await queue.list()).map((w) => w.queuedAt)).toEqual([2, 3]);
  });

  it('stops when the server asks for a pause (TOO_MANY_REQUESTS) and keeps that write and the rest', async () => {
    const queue = memoryQueue();
    for (const n of [1, 2, 3]) await queue.add(write(n));
    const paused = Object.assign(new Error('at most 20 API calls a second per account; ask again in 1 s'), {
      data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429 },
    });
    let calls = 0;
    const outcome = await createReplayer(
      queue,
      async () => {
        calls += 1;
        if (calls === 2) throw paused;
      },
      isRetryLater,
    )();
    expect(outcome).toEqual({ sent: 1, refused: [], interrupted: true });
    expect((await queue.list()).map((w) => w.queuedAt)).toEqual([2, 3]);
    // Any other refusal is final for that write.
    const archived = Object.assign(new Error('the metric is archived'), { data: { code: 'BAD_REQUEST' } });
    expect(isRetryLater(archived)).toBe(false);
    expect(isRetryLater(new TypeError('Failed to fetch'))).toBe(true);
  });

  it('drops a write the server refuses, saying why, and goes on', async () => {
    const queue = memoryQueue();
    for (const n of [1, 2]) await queue.add(write(n));
    const outcome = await createReplayer(
      queue,
      async (w) => {
        if (w.queuedAt === 1) throw new Error('the metric is archived');
      },
      isNetwork,
    )();
    expect(outcome.sent).toBe(1);
    expect(outcome.refused.map((r) => [r.write.queuedAt, r.message])).toEqual([
      [1, 'the metric is archived'],
    ]);
    expect(await queue.list()).toEqual([]);
  });

  it('sends each write once when replays are triggered together (online event, timer, socket)', async () => {
    const queue = memoryQueue();
    for (const n of [1, 2, 3]) await queue.add(write(n));
    const sent: string[] = [];
    const replay = createReplayer(
      queue,
      async (w) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        sent.push(w.id);
      },
      isNetwork,
    );
    const [a, b, c] = await Promise.all([replay(), replay(), replay()]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(sent).toHaveLength(3);
    expect(new Set(sent).size).toBe(3);
    expect((await replay()).sent).toBe(0);
  });

  it('keeps one write per id, tells listeners, and is bounded', async () => {
    const queue = memoryQueue();
    let changes = 0;
    queue.subscribe(() => {
      changes += 1;
    });
    await queue.add(write(1));
    await queue.add(write(1));
    expect(await queue.list()).toHaveLength(1);
    expect(changes).toBe(2);
    for (let n = 2; n <= MAX_QUEUED_WRITES; n++) await queue.add(write(n));
    await expect(queue.add(write(MAX_QUEUED_WRITES + 1))).rejects.toThrow(/at most/);
    expect(await queue.list()).toHaveLength(MAX_QUEUED_WRITES);
  });
});
