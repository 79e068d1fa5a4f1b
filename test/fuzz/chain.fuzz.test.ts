/**
 * Backing chains that must end in typed errors: loops (a→a, a→b→a, through
 * other spellings, a symlink, a hard link), absurd depth (100 layers), and
 * seeded random chains whose backing names point anywhere (existing files,
 * missing files, protocols, directories, devices, the overlay itself).
 * qemu-img 7.2 itself hangs on a→b→a; imgaudit must not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQcow2 } from '../support/qcow2-builder.js';
import { Rng, deriveSeed, formatSeed } from '../support/prng.js';
import { FUZZ_SEED, FuzzLog, MapWorker, requireBuild, runs, tempDir } from './harness.js';

let dir: string;
const worker = new MapWorker();
const M = 1 << 20;

/** A 1 MiB qcow2 at `name` (in dir) whose backing name is `backing` (none when null). */
function layer(name: string, backing: string | null, format?: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  buildQcow2(file, {
    virtualSize: M, clusters: [{ guest: 0, kind: 'data' }],
    ...(backing === null ? {} : { backing: { name: backing, ...(format ? { format } : {}) } }),
  });
  return file;
}

beforeAll(() => {
  requireBuild();
  dir = tempDir('chain');
});
afterAll(async () => {
  await worker.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('loops and depth', () => {
  const expectCode = async (file: string, code: string, maxDepth?: number) => {
    const outcome = await worker.map({ file, ...(maxDepth === undefined ? {} : { maxDepth }) });
    expect(outcome).toMatchObject({ outcome: 'typed', code });
  };

  it('a → a', async () => {
    await expectCode(layer('self.qcow2', 'self.qcow2'), 'E_CHAIN_LOOP');
  });

  it('a → b → a, with and without a recorded backing format', async () => {
    layer('b.qcow2', 'a.qcow2', 'qcow2');
    await expectCode(layer('a.qcow2', 'b.qcow2', 'qcow2'), 'E_CHAIN_LOOP');
    layer('b2.qcow2', 'a2.qcow2');
    await expectCode(layer('a2.qcow2', 'b2.qcow2'), 'E_CHAIN_LOOP');
  });

  it('a → b → c → b', async () => {
    layer('lc.qcow2', 'lb.qcow2');
    layer('lb.qcow2', 'lc.qcow2');
    await expectCode(layer('la.qcow2', 'lb.qcow2'), 'E_CHAIN_LOOP');
  });

  it('loops spelled differently: ./x, sub/../x, an absolute path, a symlink, a hard link', async () => {
    layer('sub/s.qcow2', '../spell.qcow2');
    await expectCode(layer('spell.qcow2', './sub/s.qcow2'), 'E_CHAIN_LOOP');
    await expectCode(layer('abs.qcow2', path.join(dir, 'abs.qcow2')), 'E_CHAIN_LOOP');
    fs.symlinkSync('sym.qcow2', path.join(dir, 'sym-link.qcow2'));
    await expectCode(layer('sym.qcow2', 'sym-link.qcow2'), 'E_CHAIN_LOOP');
    layer('hard.qcow2', 'hard-link.qcow2');
    fs.linkSync(path.join(dir, 'hard.qcow2'), path.join(dir, 'hard-link.qcow2'));
    await expectCode(path.join(dir, 'hard.qcow2'), 'E_CHAIN_LOOP');
  });

  it('a chain of 100 layers is refused; the default limit of 64 layers is exact', async () => {
    for (let i = 0; i < 100; i++) layer(`deep/${i}.qcow2`, i === 99 ? null : `${i + 1}.qcow2`);
    await expectCode(path.join(dir, 'deep/0.qcow2'), 'E_CHAIN_TOO_DEEP');
    expect(await worker.map({ file: path.join(dir, 'deep/36.qcow2') })).toMatchObject({ outcome: 'ok' });
    await expectCode(path.join(dir, 'deep/35.qcow2'), 'E_CHAIN_TOO_DEEP');
    await expectCode(path.join(dir, 'deep/90.qcow2'), 'E_CHAIN_TOO_DEEP', 9);
  });
});

const TARGETS = ['r0.qcow2', 'r1.qcow2', 'r2.qcow2', 'r3.qcow2', 'raw.img', 'missing.qcow2', '', '.', '/', '/dev/zero',
  '/dev/null', 'json:{"file":{"driver":"file","filename":"raw.img"}}', 'nbd://127.0.0.1:1/x', 'bogus:thing',
  'file:raw.img', 'sub/../r1.qcow2', 'r0.qcow2\0junk', 'x'.repeat(1023)];

describe(`random chains (FUZZ_SEED=${formatSeed(FUZZ_SEED)})`, () => {
  it('end in success or a typed error, never a crash or a hang', async () => {
    fs.writeFileSync(path.join(dir, 'raw.img'), Buffer.alloc(512 * 1024, 7));
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    const log = new FuzzLog('random chains');
    for (let i = 0; i < runs(150); i++) {
      const seed = deriveSeed(deriveSeed(FUZZ_SEED, 77), i);
      const rng = new Rng(seed);
      const links: string[] = [];
      for (let k = 0; k < 4; k++) {
        const target = rng.pick(TARGETS);
        const format = rng.pick([undefined, undefined, 'qcow2', 'raw', 'vmdk', 'nosuch']);
        layer(`r${k}.qcow2`, rng.chance(0.15) ? null : target, format);
        links.push(`r${k}→${JSON.stringify(target)}${format ? `(${format})` : ''}`);
      }
      const files = [0, 1, 2, 3].map((k) => path.join(dir, `r${k}.qcow2`));
      log.record(await worker.map({ file: files[0]! }), seed, links.join(' '), files, worker);
    }
    console.log(log.summary());
    expect(log.problems).toEqual([]);
  }, 60_000);
});
