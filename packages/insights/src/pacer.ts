import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Paces background work to a share of the time: its steps run one at a time (across every
 * recompute of the process), and after a step that took `t` ms the next one starts no sooner than
 * `t × (100 − percent) / percent` ms later. At 25 % a 40 ms step is followed by 120 ms of rest, so
 * the background work holds a core at most a quarter of the time and the interactive work it shares
 * the machine with (API calls, sync, PostgreSQL's transactions for them) gets the rest. A step's time
 * is its wall time, waits included: under contention the pace only gets gentler.
 */
export interface Pacer {
  /** Runs one step when its turn comes, then keeps the rest it owes from the steps that follow. */
  step<T>(work: () => Promise<T>): Promise<T>;
  /** The share of the time the steps may use, in percent (100: unpaced, each step runs at once). */
  readonly percent: number;
}

export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<unknown>;
}

const realClock: PacerClock = { now: () => performance.now(), sleep: (ms) => sleep(ms) };

export function createPacer(percent: number, clock: PacerClock = realClock): Pacer {
  if (!(Number.isInteger(percent) && percent >= 1 && percent <= 100)) {
    throw new RangeError(`the pace is a whole percentage from 1 to 100, not ${percent}`);
  }
  /** When the next step may start. */
  let nextStart = Number.NEGATIVE_INFINITY;
  /** The last step queued: the next one starts after it has settled. */
  let tail: Promise<unknown> = Promise.resolve();
  const restPerMs = (100 - percent) / percent;

  return {
    percent,
    step<T>(work: () => Promise<T>): Promise<T> {
      if (percent === 100) return work();
      const run = tail.then(async () => {
        const wait = nextStart - clock.now();
        if (wait > 0) await clock.sleep(wait);
        const started = clock.now();
        try {
          return await work();
        } finally {
          const ended = clock.now();
          nextStart = ended + (ended - started) * restPerMs;
        }
      });
      // A failed step is its caller's: the steps after it still run.
      tail = run.catch(() => undefined);
      return run;
    },
  };
}
