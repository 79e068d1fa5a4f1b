/**
 * Faults around `imgaudit push`, on a real PostgreSQL server: the push
 * killed with SIGKILL between its steps (several seeds, a random step and a
 * random extra delay each), the server stopped in the middle of a push and
 * started again, a run the central store already has, bad URLs and
 * credentials (one clear line, exit 2, no secret printed), TLS with
 * sslmode=verify-full. After every fault, the next push finishes: the
 * central store then holds exactly the host's runs, each once, and reads
 * back as the host's file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_AVAILABLE, type PgCluster, TEST_PASSWORD, startCluster } from '../support/pg-cluster.js';
import { Rng, deriveSeed, formatSeed, seedFromEnv } from '../support/prng.js';
import { TEST_ENV, hasQemu } from '../support/qemu.js';
import { buildReportTree, changeReportTree, scanTree, type ReportTree } from './report-tree.js';
import { REPO, requireBuild } from './scan-support.js';
import { cli } from './central-support.js';

const DRIVER = path.join(REPO, 'test/e2e/push-driver.mjs');

function startDriver(args: string[]): { child: ChildProcess; lines: string[]; done: Promise<number | null> } {
  const child = spawn(process.execPath, [DRIVER, ...args], { env: TEST_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', () => undefined);
  const done = new Promise<number | null>((resolve) => child.on('exit', (status) => resolve(status)));
  return { child, lines, done };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe.skipIf(!PG_AVAILABLE || !hasQemu)('push faults (e2e)', () => {
  let cluster: PgCluster;
  let dir: string;
  let tree: ReportTree;
  let dbFile: string;
  let stepCount: number;

  beforeAll(async () => {
    requireBuild();
    cluster = startCluster();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-push-faults-'));
    tree = buildReportTree(dir);
    dbFile = path.join(dir, 'host.db');
    scanTree(tree, dbFile);
    changeReportTree(tree);
    scanTree(tree, dbFile);
    scanTree(tree, dbFile);
  });

  afterAll(() => {
    cluster?.destroy();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The central store holds the host's three runs once each and reads back as the file. */
  async function expectWhole(database: string, url: string): Promise<void> {
    expect(cluster.psql("SELECT string_agg(local_id::text, ',' ORDER BY local_id) FROM runs WHERE host_name = 'h'", database).trim())
      .toBe('1,2,3');
    for (const args of [['runs', '--format', 'json'], ['report', '--format', 'json'], ['report', '--run', '1', '--by', 'layer', '--format', 'csv'],
      ['diff', '1', '3', '--format', 'csv'], ['check', '--format', 'json', '--fail-on', 'never']]) {
      const fromFile = await cli([...args, '--db', dbFile], dir);
      const fromCentral = await cli([...args, '--db', url, '--host', 'h'], dir);
      expect(fromCentral.stderr, args.join(' ')).toBe('');
      expect(fromCentral.stdout, args.join(' ')).toBe(fromFile.stdout);
    }
    for (const [table, key] of [['maps', 'hash'], ['chains', 'key'], ['files', 'path, dev, ino, mtime_ns'], ['base_sharings', 'key']]) {
      expect(cluster.psql(`SELECT count(*) FROM (SELECT ${key} FROM ${table} GROUP BY ${key} HAVING count(*) > 1) d`, database).trim(),
        `${table} duplicated`).toBe('0');
    }
    expect(cluster.psql('SELECT count(*) FROM maps m WHERE m.entry_count <> (SELECT count(*) FROM map_entries e WHERE e.map_id = m.id)',
      database).trim(), 'maps whole').toBe('0');
  }

  it('counts the steps of a whole push', async () => {
    const database = cluster.createDatabase();
    const driver = startDriver([dbFile, cluster.url(database, 'pusher', TEST_PASSWORD), 'h', '0', path.join(dir, 'never')]);
    expect(await driver.done).toBe(0);
    stepCount = driver.lines.filter((line) => /^\d+ /.test(line)).length;
    expect(stepCount).toBe(3 * 7);
    await expectWhole(database, cluster.url(database, 'pusher', TEST_PASSWORD));
  });

  const base = seedFromEnv();
  it.each([0, 1, 2, 3, 4, 5])('kill -9 at a random step, then push again (seed %i)', async (index) => {
    const seed = deriveSeed(base, index);
    const rng = new Rng(seed);
    const database = cluster.createDatabase();
    const url = cluster.url(database, 'pusher', TEST_PASSWORD);
    const killAt = rng.int(1, stepCount ?? 21);
    const resume = path.join(dir, `resume-${index}`);
    const driver = startDriver([dbFile, url, 'h', String(killAt), resume]);
    await until(() => driver.lines.length >= killAt || driver.child.exitCode !== null, `step ${killAt}`);
    // Let it run on for a random moment past the step, then kill it.
    fs.writeFileSync(resume, '');
    await new Promise((resolve) => setTimeout(resolve, rng.int(0, 15)));
    driver.child.kill('SIGKILL');
    await driver.done;
    const partial = Number(cluster.psql("SELECT count(*) FROM runs WHERE host_name = 'h'", database).trim());
    expect(partial, `seed ${formatSeed(seed)}`).toBeLessThanOrEqual(3);
    const again = await cli(['push', '--db', dbFile, '--to', url, '--host', 'h', '--format', 'json'], dir);
    expect(again.status, `seed ${formatSeed(seed)}: ${again.stderr}`).toBe(0);
    expect(JSON.parse(again.stdout).pushedRunIds.length + partial).toBe(3);
    await expectWhole(database, url);
  });

  it('server stopped in the middle of a push: the push fails (exit 2), the next one finishes', async () => {
    const database = cluster.createDatabase();
    const url = cluster.url(database, 'pusher', TEST_PASSWORD);
    const resume = path.join(dir, 'resume-stop');
    const pauseAt = 7 + 5; // the second run, after its run row
    const driver = startDriver([dbFile, url, 'h', String(pauseAt), resume]);
    await until(() => driver.lines.length >= pauseAt, `step ${pauseAt}`);
    cluster.stop();
    fs.writeFileSync(resume, '');
    expect(await driver.done).toBe(2);
    const down = await cli(['push', '--db', dbFile, '--to', url, '--host', 'h'], dir);
    expect(down.status).toBe(2);
    expect(down.stderr).toMatch(/^imgaudit: cannot connect to the central store pusher@\[.*\]:\d+\/central_\w+: no server is listening/);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    cluster.start();
    expect(cluster.psql("SELECT count(*) FROM runs WHERE host_name = 'h'", database).trim()).toBe('1');
    const again = await cli(['push', '--db', dbFile, '--to', url, '--host', 'h', '--format', 'json'], dir);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ pushedRunIds: [2, 3], alreadyThere: 1 });
    await expectWhole(database, url);
  });

  it('two pushes of one host at once send each run once', async () => {
    const database = cluster.createDatabase();
    const url = cluster.url(database, 'pusher', TEST_PASSWORD);
    const a = startDriver([dbFile, url, 'h', '0', path.join(dir, 'never')]);
    const b = startDriver([dbFile, url, 'h', '0', path.join(dir, 'never')]);
    expect(await a.done).toBe(0);
    expect(await b.done).toBe(0);
    await expectWhole(database, url);
  });

  describe('bad URLs and credentials: one line, exit 2, no secret', () => {
    const cases: [string, () => string, RegExp][] = [
      ['wrong password', () => cluster.url('postgres', 'pusher', 'WrongPassw0rd'), /password authentication failed for user "pusher"/],
      ['unknown user', () => cluster.url('postgres', 'nobody', 'WrongPassw0rd'), /password authentication failed for user "nobody"|role "nobody"/],
      ['unknown database', () => cluster.url('no_such_db', 'pusher', TEST_PASSWORD), /database "no_such_db" does not exist/],
      ['no server there', () => `postgresql://pusher:WrongPassw0rd@/x?host=${encodeURIComponent(dir)}&port=1`, /no server is listening/],
      ['malformed URL', () => 'postgres://pusher:WrongPassw0rd@host:notaport/db', /invalid PostgreSQL URL 'postgres:\/\/pusher:\*\*\*@host:notaport\/db'/],
      ['unknown parameter', () => 'postgresql://pusher:WrongPassw0rd@/db?sslmdoe=require', /unknown parameter 'sslmdoe'/],
      ['bad sslmode', () => `postgresql://pusher:WrongPassw0rd@/db?sslmode=always&host=${encodeURIComponent(dir)}`, /invalid sslmode 'always'/],
    ];
    it.each(cases)('%s', async (_name, url, message) => {
      for (const args of [['push', '--db', dbFile, '--to', url()], ['report', '--db', url()]]) {
        const result = await cli(args, dir);
        expect(result.status, result.stderr).toBe(2);
        expect(result.stderr).toMatch(message);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(result.stdout + result.stderr).not.toContain('WrongPassw0rd');
        expect(result.stdout + result.stderr).not.toContain(TEST_PASSWORD);
      }
    });
  });

  it('reads connection settings from PG* variables and a private .pgpass', async () => {
    const database = cluster.createDatabase();
    const home = fs.mkdtempSync(path.join(dir, 'home-'));
    const passfile = path.join(home, '.pgpass');
    fs.writeFileSync(passfile, `# host:port:db:user:password\nlocalhost:${cluster.port}:*:pusher:${TEST_PASSWORD}\n`, { mode: 0o600 });
    const env = { PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: 'pusher', PGDATABASE: database, PGPASSFILE: passfile };
    const push = await cli(['push', '--db', dbFile, '--to', 'postgresql://', '--host', 'h'], dir, env);
    expect(push.status, push.stderr).toBe(0);
    fs.chmodSync(passfile, 0o644);
    const open = await cli(['runs', '--db', 'postgresql://'], dir, env);
    expect(open.status).toBe(2);
    expect(open.stderr).toMatch(/the server asks for a password and none was found/);
    expect(open.stderr).not.toContain(TEST_PASSWORD);
    const service = path.join(home, 'pg_service.conf');
    fs.writeFileSync(service, `[central]\nhost=${cluster.socketDir}\nport=${cluster.port}\ndbname=${database}\nuser=pusher\npassword=${TEST_PASSWORD}\n`);
    const viaService = await cli(['runs', '--db', 'postgresql://?service=central', '--format', 'json'], dir, { PGSERVICEFILE: service });
    expect(viaService.status, viaService.stderr).toBe(0);
    expect(JSON.parse(viaService.stdout).runs).toHaveLength(3);
  });
});

describe.skipIf(!PG_AVAILABLE)('TLS to the central store (e2e)', () => {
  let cluster: PgCluster;
  let dir: string;
  beforeAll(async () => {
    requireBuild();
    cluster = startCluster({ tls: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-tls-'));
  });
  afterAll(() => {
    cluster?.destroy();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });
  const url = (host: string, mode: string, rootCert?: string) =>
    `postgresql://pusher:${encodeURIComponent(TEST_PASSWORD)}@${host}:${cluster.port}/postgres?sslmode=${mode}`
    + (rootCert === undefined ? '' : `&sslrootcert=${encodeURIComponent(rootCert)}`);

  it('sslmode=verify-full connects when the certificate names the host and is signed by the root', async () => {
    const database = cluster.createDatabase();
    const good = `postgresql://pusher:${encodeURIComponent(TEST_PASSWORD)}@localhost:${cluster.port}/${database}`
      + `?sslmode=verify-full&sslrootcert=${encodeURIComponent(path.join(cluster.dir, 'ca.crt'))}`;
    const result = await cli(['push', '--to', good, '--migrate-only'], dir);
    expect(result.status, result.stderr).toBe(0);
    expect(cluster.psql('SELECT count(*) FROM pg_stat_ssl WHERE ssl', 'postgres')).toBeDefined();
  });

  it('sslmode=verify-full refuses a host name the certificate does not carry, and an unknown root', async () => {
    const wrongName = await cli(['push', '--to', url('127.0.0.1', 'verify-full', path.join(cluster.dir, 'ca.crt')), '--migrate-only'], dir);
    expect(wrongName.status).toBe(2);
    expect(wrongName.stderr).toMatch(/IP: 127.0.0.1 is not in the cert's list|altnames/);
    fs.writeFileSync(path.join(dir, 'other.crt'), fs.readFileSync(path.join(cluster.dir, 'server.crt')));
    const wrongRoot = await cli(['push', '--to', url('localhost', 'verify-full', path.join(dir, 'other.crt')), '--migrate-only'], dir);
    expect(wrongRoot.status).toBe(2);
    expect(wrongRoot.stderr).toMatch(/certificate/);
    const noRoot = await cli(['push', '--to', url('localhost', 'verify-full', path.join(dir, 'missing.crt')), '--migrate-only'], dir);
    expect(noRoot.status).toBe(2);
    expect(noRoot.stderr).toMatch(/cannot read sslrootcert/);
    for (const r of [wrongName, wrongRoot, noRoot]) expect(r.stderr).not.toContain(TEST_PASSWORD);
  });
});
