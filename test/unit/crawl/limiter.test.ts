/** The limiter bounds work in flight, applies backpressure and fails on the first task error. */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Limiter } from '../../../src/crawl/limiter.js';

describe('Limiter', () => {
  it('runs at most `concurrency` tasks at once and queues at most two per slot', async () => {
    const limiter = new Limiter(3);
    let active = 0;
    let maxActive = 0;
    let maxQueued = 0;
    let queued = 0;
    for (let i = 0; i < 40; i++) {
      await limiter.whenReady();
      queued++;
      maxQueued = Math.max(maxQueued, queued);
      limiter.run(async () => {
        queued--;
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(1);
        active--;
      });
    }
    await limiter.idle();
    expect(maxActive).toBe(3);
    expect(maxQueued).toBeLessThanOrEqual(6);
  });

  it('stops starting tasks after one throws and rethrows from idle', async () => {
    const limiter = new Limiter(1);
    const ran: number[] = [];
    limiter.run(async () => {
      ran.push(1);
      throw new Error('disk full');
    });
    limiter.run(async () => {
      ran.push(2);
    });
    await expect(limiter.idle()).rejects.toThrow('disk full');
    expect(limiter.hasFailed).toBe(true);
    expect(ran).toEqual([1]);
  });
});
