/**
 * A throwaway PostgreSQL cluster for the central-store tests: initdb and
 * pg_ctl (Debian's `postgresql` package) under a temporary directory, run as
 * the `postgres` user when the tests run as root, listening on a unix socket
 * in that directory with a random port (no TCP unless TLS is asked for), so
 * concurrent test runs never collide. `PG_AVAILABLE` is false where the
 * server binaries are missing: the PostgreSQL tier then skips and says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function findBinDir(): string | undefined {
  if (process.env.PG_BIN !== undefined) return fs.existsSync(path.join(process.env.PG_BIN, 'pg_ctl')) ? process.env.PG_BIN : undefined;
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const versions = fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin/pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length === 0 ? undefined : path.join(base, versions[0]!, 'bin');
}

const BIN = findBinDir();
const IS_ROOT = process.getuid?.() === 0;
const HAS_POSTGRES_USER = !IS_ROOT || spawnSync('id', ['-u', 'postgres']).status === 0;

/** True when a cluster can be started here. */
export const PG_AVAILABLE = BIN !== undefined && HAS_POSTGRES_USER;

if (!PG_AVAILABLE) {
  process.stderr.write('PostgreSQL tier skipped: no PostgreSQL server binaries (install Debian package postgresql)\n');
}

/** The password of the `pusher` and `reader` roles every cluster has. */
export const TEST_PASSWORD = 's3cret-Pw!x';

export interface PgCluster {
  dir: string;
  socketDir: string;
  port: number;
  /** A URL for `database` as the superuser over the unix socket. */
  url(database?: string, user?: string, password?: string): string;
  /** Runs SQL as the superuser; returns psql's unaligned, tuples-only output. */
  psql(sql: string, database?: string): string;
  stop(): void;
  start(): void;
  /** Creates a fresh database (owned by `pusher`) and returns its name. */
  createDatabase(): string;
  destroy(): void;
}

function asPostgres(command: string, args: string[], options: { input?: string } = {}): string {
  const full = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', command, ...args]] as const : [command, args] as const;
  return execFileSync(full[0], [...full[1]], { encoding: 'utf8', input: options.input, stdio: ['pipe', 'pipe', 'pipe'] });
}

let databaseCounter = 0;

/**
 * Starts a cluster. `tls`: also listen on 127.0.0.1 with a server
 * certificate for `localhost` signed by a CA written to `dir/ca.crt`.
 */
export function startCluster(options: { tls?: boolean } = {}): PgCluster {
  if (BIN === undefined) throw new Error('no PostgreSQL binaries');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-pg-'));
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  const socketDir = dir;
  if (IS_ROOT) execFileSync('chown', ['postgres:postgres', dir]);
  const port = 20000 + Math.floor(Math.random() * 40000);
  asPostgres(path.join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const hba = [
    'local all postgres trust',
    'local all all scram-sha-256',
    ...(options.tls ? ['hostssl all all 127.0.0.1/32 scram-sha-256'] : []),
  ].join('\n');
  const conf = [
    `port = ${port}`, `unix_socket_directories = '${socketDir}'`,
    `listen_addresses = '${options.tls ? '127.0.0.1' : ''}'`, 'fsync = off', 'max_connections = 60',
    'shared_buffers = 32MB', "log_min_messages = 'fatal'", 'logging_collector = off',
  ];
  if (options.tls) {
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=imgaudit test CA',
      '-keyout', 'ca.key', '-out', 'ca.crt']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
    fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost\n');
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-extfile', 'ext.cnf', '-out', 'server.crt']);
    for (const file of ['server.key', 'server.crt']) {
      fs.copyFileSync(path.join(dir, file), path.join(data, file));
      if (IS_ROOT) execFileSync('chown', ['postgres:postgres', path.join(data, file)]);
      fs.chmodSync(path.join(data, file), 0o600);
    }
    conf.push('ssl = on', "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'");
  }
  fs.writeFileSync(path.join(data, 'pg_hba.conf'), `${hba}\n`);
  fs.appendFileSync(path.join(data, 'postgresql.conf'), `\n${conf.join('\n')}\n`);
  const ctl = (args: string[]) => asPostgres(path.join(BIN, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', ...args]);
  ctl(['start']);
  const cluster: PgCluster = {
    dir, socketDir, port,
    url(database = 'postgres', user = 'postgres', password?: string) {
      const auth = password === undefined ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
      return `postgresql://${auth}@/${database}?host=${encodeURIComponent(socketDir)}&port=${port}`;
    },
    psql(sql: string, database = 'postgres') {
      return asPostgres(path.join(BIN, 'psql'), ['-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', database,
        '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', '-'], { input: sql });
    },
    stop() {
      ctl(['stop', '-m', 'fast']);
    },
    start() {
      ctl(['start']);
    },
    createDatabase() {
      const name = `central_${process.pid}_${++databaseCounter}`;
      cluster.psql(`CREATE DATABASE ${name} OWNER pusher;`);
      cluster.psql(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC; GRANT CONNECT ON DATABASE ${name} TO reader;`);
      return name;
    },
    destroy() {
      try {
        ctl(['stop', '-m', 'immediate']);
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  cluster.psql(`CREATE ROLE pusher LOGIN PASSWORD '${TEST_PASSWORD}'; CREATE ROLE reader LOGIN PASSWORD '${TEST_PASSWORD}';`);
  return cluster;
}
