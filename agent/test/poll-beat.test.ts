import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PollBeat, type BeatClock } from '../src/poll-beat.js';

/** A clock that moves only when slept on, or by hand: `sleeps` are what the beat asked for. */
function fakeClock(): BeatClock & { t: number; sleeps: number[] } {
  const clock = {
    t: 1_000,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
      return Promise.resolve();
    },
  };
  return clock;
}

test('polls keep their beat however long each check takes', async () => {
  const clock = fakeClock();
  const beat = new PollBeat(40, clock.t, clock);
  for (let i = 0; i < 5; i++) {
    clock.t += 15; // the check
    await beat.wait();
  }
  assert.deepEqual(clock.sleeps, [25, 25, 25, 25, 25]);
  assert.equal(clock.t, 1_200);
});

test('a beat that a check overran is skipped, not caught up', async () => {
  const clock = fakeClock();
  const beat = new PollBeat(40, clock.t, clock);
  clock.t += 90; // past the beats at 40 and 80
  await beat.wait();
  assert.deepEqual(clock.sleeps, [30]);
  assert.equal(clock.t, 1_120);
});

test('a wait ends at its limit when that comes before the beat', async () => {
  const clock = fakeClock();
  await new PollBeat(200, clock.t, clock).wait(clock.t + 30);
  assert.deepEqual(clock.sleeps, [30]);
});

test('a timer that fired late does not move the next beat', async () => {
  const clock = fakeClock();
  const beat = new PollBeat(40, clock.t, clock);
  await beat.wait();
  clock.t += 7; // the timer fired 7 ms late
  await beat.wait();
  assert.deepEqual(clock.sleeps, [40, 33]);
});
