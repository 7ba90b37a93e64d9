import { describe, expect, it } from 'vitest';
import { createPacer, type PacerClock } from '../src/pacer';

/** A clock that moves only when told: a step "takes" what its work adds, a rest what it asks for. */
function manualClock() {
  let time = 0;
  const sleeps: number[] = [];
  const clock: PacerClock = {
    now: () => time,
    async sleep(ms) {
      sleeps.push(ms);
      time += ms;
    },
  };
  return { clock, sleeps, advance: (ms: number) => (time += ms), at: () => time };
}

describe('the recompute pacer', () => {
  it('rests after each step in proportion to it: at 25 %, three times the step', async () => {
    const { clock, sleeps, advance } = manualClock();
    const pacer = createPacer(25, clock);
    for (const ms of [10, 20, 4]) {
      await pacer.step(async () => {
        advance(ms);
      });
    }
    // No rest before the first step; then 3 × 10 and 3 × 20 (the last rest is owed to the next step).
    expect(sleeps).toEqual([30, 60]);
    await pacer.step(async () => {});
    expect(sleeps).toEqual([30, 60, 12]);
  });

  it('a step that starts after its rest has passed anyway does not wait', async () => {
    const { clock, sleeps, advance } = manualClock();
    const pacer = createPacer(50, clock);
    await pacer.step(async () => {
      advance(10);
    });
    advance(25); // idle for longer than the 10 owed
    await pacer.step(async () => {
      advance(5);
    });
    expect(sleeps).toEqual([]);
  });

  it('runs the steps of concurrent callers one at a time, in order, sharing one budget', async () => {
    const { clock, sleeps, advance } = manualClock();
    const pacer = createPacer(50, clock);
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const caller = (name: string) =>
      Promise.all(
        [1, 2, 3].map((i) =>
          pacer.step(async () => {
            running += 1;
            most = Math.max(most, running);
            order.push(`${name}${i}`);
            await new Promise((resolve) => setImmediate(resolve));
            advance(8);
            running -= 1;
            return `${name}${i}`;
          }),
        ),
      );
    const [a, b] = await Promise.all([caller('a'), caller('b')]);
    expect(a).toEqual(['a1', 'a2', 'a3']);
    expect(b).toEqual(['b1', 'b2', 'b3']);
    expect(most).toBe(1);
    expect(order).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
    // Six steps of 8: a rest of 8 before each but the first, whoever's step it is.
    expect(sleeps).toEqual([8, 8, 8, 8, 8]);
  });

  it('a failing step fails its caller alone, still owes its rest, and the next step runs', async () => {
    const { clock, sleeps, advance } = manualClock();
    const pacer = createPacer(20, clock);
    const failed = pacer.step(async () => {
      advance(5);
      throw new Error('the query failed');
    });
    const next = pacer.step(async () => 'ran');
    await expect(failed).rejects.toThrow('the query failed');
    await expect(next).resolves.toBe('ran');
    expect(sleeps).toEqual([20]);
  });

  it('at 100 % runs each step at once, without rests or turns', async () => {
    const { clock, sleeps, advance } = manualClock();
    const pacer = createPacer(100, clock);
    let running = 0;
    let most = 0;
    await Promise.all(
      [1, 2, 3].map(() =>
        pacer.step(async () => {
          running += 1;
          most = Math.max(most, running);
          await new Promise((resolve) => setImmediate(resolve));
          advance(50);
          running -= 1;
        }),
      ),
    );
    expect(most).toBe(3);
    expect(sleeps).toEqual([]);
  });

  it.each([0, 101, 2.5, Number.NaN])('refuses a pace of %s', (percent) => {
    expect(() => createPacer(percent)).toThrow(/whole percentage from 1 to 100/);
  });
});
