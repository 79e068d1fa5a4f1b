/**
 * Live differential tier, fixed scenarios: rebuild S01–S23 (qcow2/raw) with
 * qemu-img/qemu-io and require `imgaudit map` to match `qemu-img map`
 * byte for byte (stdout, exit code, stderr with the imgaudit prefix), for
 * JSON and human output and for option variants. See scenarios.ts.
 */
import { afterAll, describe, it } from 'vitest';
import { hasQemu, runOk, settle, SETTLE_SHELL, splitShell, virtualSize } from '../support/qemu.js';
import {
  assertAllMatch,
  cliMissing,
  compareMap,
  reproScript,
  Workspace,
  type Comparison,
  type ReproStep,
} from './differential.js';
import { SCENARIOS } from './scenarios.js';

const OUTPUTS = ['--output=json', '--output=human'] as const;

/** -s/-l variants for an image of virtual size `v` (bytes). */
function optionVariants(v: number): string[][] {
  const third = Math.floor(v / 3 / 512) * 512;
  return [
    ['-s', String(third), '-l', String(Math.max(1, Math.floor(v / 3)))],
    [`--start-offset=${third + 1234}`],
    ['-s', '64k', '--max-length=1M'],
    ['-l', '0'],
    ['-s', String(v)],
    ['--start-offset', String(v + 4097)],
    ['-s', '1', '-l', '9223372036854775807'],
    ['-s', String(Math.max(0, v - 1))],
    ['--max-length=1000'],
  ];
}

/**
 * Expands one `map`, `map=` or `mapopts` line into the argument lists to compare.
 * mapopts runs each variant in one output format, alternating with `salt` so
 * that across scenarios every variant is compared in both.
 */
function expandMapLine(words: string[], dir: string, salt: number): string[][] {
  const [kind, ...rest] = words;
  if (kind === 'map=') return [rest];
  if (kind === 'map') return OUTPUTS.map((o) => [o, ...rest]);
  const fmt = rest[0] === '-f' ? rest[1] : undefined;
  const file = rest[rest.length - 1];
  if (file === undefined) throw new Error(`mapopts needs a file: ${words.join(' ')}`);
  const prefix = fmt === undefined ? [] : ['-f', fmt];
  return optionVariants(virtualSize(file, dir, fmt)).map((variant, k) => [
    ...prefix,
    OUTPUTS[(k + salt) % 2] as string,
    ...variant,
    file,
  ]);
}

const isMapLine = (w: string | undefined): boolean => w === 'map' || w === 'map=' || w === 'mapopts';

describe.skipIf(!hasQemu)('live differential: fixed scenarios (qcow2, raw)', () => {
  const ws = new Workspace();
  afterAll(() => ws.finish());

  for (const sc of SCENARIOS) {
    it.concurrent(`${sc.id}: ${sc.title}`, { timeout: 300_000 }, async () => {
      const missing = cliMissing();
      if (missing) throw new Error(missing);
      const dir = ws.caseDir(sc.id);
      const steps: ReproStep[] = [];
      const pending: Promise<Comparison>[] = [];
      const done: Comparison[] = [];
      let dirty = true;
      for (const [n, line] of sc.lines.entries()) {
        const words = splitShell(line);
        if (isMapLine(words[0])) {
          if (dirty) {
            settle(dir);
            steps.push(SETTLE_SHELL);
            dirty = false;
          }
          for (const args of expandMapLine(words, dir, n)) {
            steps.push({ map: args });
            pending.push(compareMap(dir, args));
          }
        } else {
          // Maps of the current state must finish before the images change.
          done.push(...(await Promise.all(pending.splice(0))));
          steps.push(line);
          runOk(words, dir);
          dirty = true;
        }
      }
      done.push(...(await Promise.all(pending)));
      const script = reproScript(`imgaudit live scenario ${sc.id}: ${sc.title}`, steps);
      assertAllMatch(`scenario ${sc.id} (${sc.title})`, dir, script, done, ws);
    });
  }
});
