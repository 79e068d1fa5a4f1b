/**
 * The package as an operator installs it: `npm pack` ships what runs and
 * nothing else, and `npm install -g imgaudit-*.tgz` on a host without
 * python3, make or a C compiler gives a working `imgaudit` (the addon comes
 * prebuilt; better-sqlite3 13 carries its own binaries). Without a loadable
 * addon, `map` and `scan` refuse instead of reporting holes as data.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, hasDist } from '../support/imgaudit.js';
import { type Exec, exec } from './exec.js';
import { smallEstate, toolchainFreePath } from './sandbox.js';

/** The system npm's entry point (npm is a Node program, run here by the Node under test) and its global config. */
function systemNpm(): { cli: string; globalconfig: string } {
  const npm = fs.realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
  const cli = path.join(path.dirname(npm), 'npm-cli.js');
  // With another Node and --prefix, npm would look for its global config (CA file, registry) elsewhere.
  const globalconfig = spawnSync('npm', ['config', 'get', 'globalconfig'], { encoding: 'utf8' }).stdout.trim();
  return { cli: fs.existsSync(cli) ? cli : npm, globalconfig };
}
const NPM = systemNpm();

interface Packed { tarball: string; files: string[] }

function pack(dest: string): Packed {
  const r = spawnSync(process.execPath, [NPM.cli, 'pack', '--ignore-scripts', '--json', '--pack-destination', dest], {
    cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: path.join(dest, info!.filename), files: info!.files.map((f) => f.path).sort() };
}

describe.runIf(hasDist)('the packed package', () => {
  let work: string;
  let packed: Packed;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-pkg-'));
    packed = pack(work);
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('ships the runtime, the SQL, the prebuilt addon and the docs, and no tests, sources or benchmarks', () => {
    const { files } = packed;
    for (const needed of ['package.json', 'README.md', 'LICENSE', 'config.example.json', 'dist/cli.js',
      'prebuilds/linux-x64/imgaudit.node', 'prebuilds/linux-arm64/imgaudit.node', 'prebuilds/linux-x64/imgaudit.musl.node',
      'migrations/0001_create_scan_tables.sql', 'reports/by-depth.sql']) {
      expect(files, needed).toContain(needed);
    }
    const stray = files.filter((f) => /^(test|bench|\.ci)\//.test(f) || (/^src\//.test(f) && !/^src\/native\//.test(f)));
    expect(stray).toEqual([]);
    expect(files.length).toBeLessThan(400);
  });

  describe('installed globally on a host without a toolchain', () => {
    let prefix: string;
    let env: NodeJS.ProcessEnv;
    let estate: ReturnType<typeof smallEstate>;
    let installed: Exec | undefined;
    beforeAll(async () => {
      prefix = path.join(work, 'prefix');
      const sandbox = toolchainFreePath(path.join(work, 'sandbox'), process.execPath);
      env = { HOME: process.env.HOME, PATH: `${path.join(prefix, 'bin')}:${sandbox}`, LC_ALL: 'C', npm_config_globalconfig: NPM.globalconfig };
      installed = await exec(process.execPath, [NPM.cli, 'install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', packed.tarball], {
        cwd: work, env, timeoutMs: 540_000,
      });
      estate = smallEstate(work);
    }, 600_000);

    const run = (args: string[]) => exec(path.join(prefix, 'bin', 'imgaudit'), args, { cwd: work, env, timeoutMs: 120_000 });

    it('installs without compiling anything', () => {
      expect(installed!.status, installed!.stderr).toBe(0);
      expect(fs.existsSync(path.join(prefix, 'lib', 'node_modules', 'imgaudit', 'build'))).toBe(false);
      expect(spawnSync('sh', ['-c', 'command -v python3 make cc gcc'], { env, encoding: 'utf8' }).stdout).toBe('');
    });

    it('maps, scans and reports', async () => {
      expect(installed!.status, 'install').toBe(0);
      const map = await run(['map', '--output=json', '-f', 'raw', estate.base]);
      expect(map.stderr).toBe('');
      expect(map.stdout).toBe([
        '[{ "start": 0, "length": 1073741824, "depth": 0, "present": true, "zero": true, "data": false, "offset": 0},',
        '{ "start": 1073741824, "length": 1048576, "depth": 0, "present": true, "zero": false, "data": true, "offset": 1073741824},',
        '{ "start": 1074790400, "length": 1072693248, "depth": 0, "present": true, "zero": true, "data": false, "offset": 1074790400}]',
        '',
      ].join('\n'));
      const db = path.join(work, 'audit.db');
      const scan = await run(['scan', '--db', db, estate.root]);
      expect(scan.status, scan.stderr).toBe(0);
      const report = await run(['report', '--db', db, '--format', 'json']);
      expect(report.status, report.stderr).toBe(0);
      const json = JSON.parse(report.stdout) as { images: { path: string; chainLength: number; byDepth: { depth: number; data: number }[] }[] };
      const top = json.images.find((i) => i.path === estate.top);
      expect(json.images).toHaveLength(2);
      expect(top?.chainLength).toBe(2);
      expect(top?.byDepth.map((d) => [d.depth, d.data])).toEqual([[0, 2 * 65536], [1, 1 << 20]]);
    });

    it('refuses to map or scan when the addon cannot be loaded, and writes nothing', async () => {
      expect(installed!.status, 'install').toBe(0);
      const pkg = path.join(prefix, 'lib', 'node_modules', 'imgaudit');
      fs.renameSync(path.join(pkg, 'prebuilds'), path.join(pkg, 'prebuilds.away'));
      try {
        const map = await run(['map', '--output=json', '-f', 'raw', estate.base]);
        expect(map.status).toBe(1);
        expect(map.stdout).toBe('');
        expect(map.stderr).toMatch(/^imgaudit: the native addon for linux-x64 could not be loaded \(.*\); reinstall imgaudit for this platform.*\n$/);
        const db = path.join(work, 'never.db');
        const scan = await run(['scan', '--db', db, estate.root]);
        expect(scan.status).toBe(2);
        expect(scan.stderr).toMatch(/native addon/);
        expect(fs.existsSync(db)).toBe(false);
      } finally {
        fs.renameSync(path.join(pkg, 'prebuilds.away'), path.join(pkg, 'prebuilds'));
      }
    });
  });
});
