/**
 * The NBD client against hostile servers: a scripted server (nbd-fake-server)
 * answers correctly or with one mutation (cut short, a byte flipped, a stall,
 * garbage, wrong handles, zero-length and oversized extents, endless chunks,
 * huge option replies, a wrong context id, no DONE flag). Every run must end
 * — within the client's deadline — in a correct map or a typed ImgauditError;
 * an unmutated server's map must match its extents exactly; the heap stays
 * bounded. Seeds: FUZZ_SEED, runs: FUZZ_RUNS.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImgauditError } from '../../src/errors.js';
import { NbdImage } from '../../src/map/nbd-map.js';
import type { NbdTarget } from '../../src/map/open/nbd-address.js';
import type { MapEntry } from '../../src/map/map-entry.js';
import { Rng, deriveSeed, formatSeed } from '../support/prng.js';
import { FUZZ_SEED, runs } from './harness.js';
import { type FakeExport, type Mutation, randomExport, randomMutation, startFakeServer } from './nbd-fake-server.js';

let dir = '';
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-nbd-fuzz-')); });
afterAll(() => { if (dir !== '') fs.rmSync(dir, { recursive: true, force: true }); });

/** Per-byte (data, zero) of the export as QEMU's client sees it, as merged runs of entries. */
function expectedEntries(exp: FakeExport): { start: number; length: number; data: boolean; zero: boolean }[] {
  const out: { start: number; length: number; data: boolean; zero: boolean }[] = [];
  const push = (length: number, data: boolean, zero: boolean): void => {
    const start = out.length === 0 ? 0 : out[out.length - 1]!.start + out[out.length - 1]!.length;
    const last = out[out.length - 1];
    if (last !== undefined && last.data === data && last.zero === zero) last.length += length;
    else out.push({ start, length, data, zero });
  };
  for (const e of exp.extents) push(e.length, (e.flags & 1) === 0, (e.flags & 2) !== 0);
  const rounded = Math.ceil(exp.size / 512) * 512;
  if (rounded > exp.size) push(rounded - exp.size, false, true);
  return out;
}

async function mapOnce(socketPath: string): Promise<MapEntry[]> {
  const target: NbdTarget = {
    server: { type: 'unix', path: socketPath }, exportName: undefined, tlsCreds: undefined, tlsHostname: undefined,
    dirtyBitmap: undefined, displayName: `nbd+unix://?socket=${socketPath}`,
  };
  const image = await NbdImage.open({ kind: 'nbd', target }, target, { address: { type: 'unix', path: socketPath }, timeoutMs: 250, maxRequests: 50_000 });
  try {
    const entries: MapEntry[] = [];
    for await (const emitted of image.emitted()) entries.push({ ...emitted.entry });
    return entries;
  } finally {
    image.close();
  }
}

describe(`NBD client against a fuzzing server (FUZZ_SEED=${formatSeed(FUZZ_SEED)})`, () => {
  it('ends in the right map or a typed error, never a crash, a hang or unbounded memory', async () => {
    const problems: string[] = [];
    const outcomes = new Map<string, number>();
    const heapStart = process.memoryUsage().heapUsed;
    for (let i = 0; i < runs(120); i++) {
      const seed = deriveSeed(deriveSeed(FUZZ_SEED, 1313), i);
      const rng = new Rng(seed);
      const exp = randomExport(rng);
      const mutation: Mutation = i % 4 === 0 ? { kind: 'none' } : randomMutation(rng);
      const socketPath = path.join(dir, `s${i}.sock`);
      const stop = await startFakeServer(socketPath, exp, mutation);
      const label = `seed ${formatSeed(seed)} ${mutation.kind} size ${exp.size} minBlock ${exp.minBlock}`;
      try {
        const guard = new Promise<'hang'>((resolve) => setTimeout(() => resolve('hang'), 20_000).unref());
        const result = await Promise.race([mapOnce(socketPath).then((e) => ({ ok: e }), (error: unknown) => ({ error })), guard]);
        if (result === 'hang') {
          problems.push(`${label}: no result within 20 s`);
        } else if ('error' in result) {
          const error = result.error;
          const typed = error instanceof ImgauditError;
          outcomes.set(typed ? (error as ImgauditError).code : 'untyped', (outcomes.get(typed ? (error as ImgauditError).code : 'untyped') ?? 0) + 1);
          if (!typed) problems.push(`${label}: untyped error ${String((error as Error)?.stack ?? error)}`);
          if (mutation.kind === 'none') problems.push(`${label}: a correct server failed: ${String(error)}`);
        } else {
          outcomes.set('ok', (outcomes.get('ok') ?? 0) + 1);
          const got = result.ok.map((e) => ({ start: e.startBytes, length: e.lengthBytes, data: e.data, zero: e.zero }));
          if (mutation.kind === 'none' && exp.minBlock <= 1 && JSON.stringify(got) !== JSON.stringify(expectedEntries(exp))) {
            problems.push(`${label}: map differs from the export's extents`);
          }
          const total = got.reduce((sum, e) => sum + e.length, 0);
          if (total !== Math.ceil(exp.size / 512) * 512) problems.push(`${label}: map covers ${total} bytes`);
        }
      } finally {
        await stop();
      }
    }
    console.log(`NBD fuzz outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    expect(problems).toEqual([]);
    expect(outcomes.get('ok') ?? 0).toBeGreaterThan(0);
    expect(process.memoryUsage().heapUsed - heapStart).toBeLessThan(256 << 20);
  }, 600_000);
});
