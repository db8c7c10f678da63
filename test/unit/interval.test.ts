import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { everyWithoutOverlap } from '../../src/interval.ts';

describe('everyWithoutOverlap', () => {
  it('never starts a run while the previous one still waits, however slow it is', async () => {
    let active = 0;
    let most = 0;
    let runs = 0;
    // Each run waits 5 times longer than the interval: setInterval would have 5 of them at once.
    const ticker = everyWithoutOverlap(
      async () => {
        active += 1;
        most = Math.max(most, active);
        runs += 1;
        await sleep(25);
        active -= 1;
      },
      5,
      (error) => assert.fail(String(error)),
    );
    while (runs < 4) await sleep(5);
    ticker.stop();
    await ticker.idle();
    assert.equal(most, 1);
    const after = runs;
    await sleep(40);
    assert.equal(runs, after, 'no run after stop');
  });

  it('reports a failed run and goes on with the next', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const ticker = everyWithoutOverlap(
      async () => {
        runs += 1;
        if (runs === 1) throw new Error('store unreachable');
      },
      1,
      (error) => errors.push(error),
    );
    while (runs < 3) await sleep(2);
    ticker.stop();
    await ticker.idle();
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /store unreachable/);
  });

  it('waits one interval first with startNow: false, and a stop before then runs nothing', async () => {
    let runs = 0;
    const ticker = everyWithoutOverlap(async () => void (runs += 1), 30, () => undefined, { startNow: false });
    assert.equal(runs, 0);
    ticker.stop();
    await sleep(60);
    assert.equal(runs, 0);
  });
});
