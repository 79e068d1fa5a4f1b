/**
 * The self-contained artefact (.ci/build-artefact.sh): built from this
 * checkout, unpacked on a host whose PATH has no `node` and no compiler, and
 * run through a symlink as an operator would link it onto PATH — it maps,
 * scans and reports with its own Node.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, hasDist } from '../support/imgaudit.js';
import { exec } from './exec.js';
import { smallEstate, toolchainFreePath } from './sandbox.js';

describe.runIf(hasDist)('the self-contained artefact', () => {
  let work: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;
  let estate: ReturnType<typeof smallEstate>;
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-artefact-'));
    const built = await exec('bash', [path.join(REPO_ROOT, '.ci', 'build-artefact.sh'), 'x64', path.join(work, 'out')], {
      cwd: REPO_ROOT, timeoutMs: 540_000,
    });
    if (built.status !== 0) throw new Error(`build-artefact.sh failed: ${built.stderr}`);
    const tarball = built.stdout.trim().split('\n').pop()!;
    expect(path.basename(tarball)).toMatch(/^imgaudit-\d+\.\d+\.\d+-linux-x64\.tar\.gz$/);
    const opt = path.join(work, 'opt');
    fs.mkdirSync(opt);
    const untar = await exec('tar', ['-xzf', tarball, '-C', opt], { cwd: work });
    expect(untar.status, untar.stderr).toBe(0);
    const [dir] = fs.readdirSync(opt);
    const sandbox = toolchainFreePath(path.join(work, 'sandbox'), null);
    bin = path.join(sandbox, 'imgaudit');
    fs.symlinkSync(path.join(opt, dir!, 'bin', 'imgaudit'), bin);
    env = { PATH: sandbox, LC_ALL: 'C', HOME: work };
    estate = smallEstate(work);
  }, 600_000);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('runs with no node on PATH', async () => {
    expect((await exec('sh', ['-c', 'command -v node || echo none'], { cwd: work, env })).stdout).toBe('none\n');
    const version = await exec(bin, ['--version'], { cwd: work, env });
    expect(version.stderr).toBe('');
    expect(version.stdout).toBe(`${(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('maps, scans and reports', async () => {
    const map = await exec(bin, ['map', '--output=json', '-f', 'raw', estate.base], { cwd: work, env });
    expect(map.stderr).toBe('');
    expect(map.stdout.split('\n')[1]).toBe('{ "start": 1073741824, "length": 1048576, "depth": 0, "present": true, "zero": false, "data": true, "offset": 1073741824},');
    const db = path.join(work, 'audit.db');
    const scan = await exec(bin, ['scan', '--db', db, estate.root], { cwd: work, env });
    expect(scan.status, scan.stderr).toBe(0);
    const report = await exec(bin, ['report', '--db', db, '--format', 'json'], { cwd: work, env });
    expect(report.status, report.stderr).toBe(0);
    const json = JSON.parse(report.stdout) as { images: { path: string; byDepth: { depth: number; data: number }[] }[] };
    expect(json.images.find((i) => i.path === estate.top)?.byDepth.map((d) => [d.depth, d.data])).toEqual([[0, 2 * 65536], [1, 1 << 20]]);
    for (const format of ['text', 'markdown', 'csv', 'html', 'prometheus']) {
      const out = await exec(bin, ['report', '--db', db, '--format', format], { cwd: work, env });
      expect(out.status, `${format}: ${out.stderr}`).toBe(0);
      expect(out.stdout.length, format).toBeGreaterThan(0);
    }
  });
});
