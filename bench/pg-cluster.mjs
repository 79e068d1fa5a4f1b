// A throwaway PostgreSQL cluster for the central-store benchmark (initdb
// and pg_ctl under a temporary directory, as the `postgres` user when run
// as root, unix socket only, random port); test/support/pg-cluster.ts is
// the tests' twin.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function binDir() {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin/pg_ctl'))) : [];
  if (versions.length === 0) throw new Error('no PostgreSQL server binaries (Debian package postgresql)');
  return path.join(base, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

export function startCluster() {
  const bin = binDir();
  const isRoot = process.getuid?.() === 0;
  const as = (cmd, args, input) => execFileSync(isRoot ? 'runuser' : cmd, isRoot ? ['-u', 'postgres', '--', cmd, ...args] : args,
    { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-bench-pg-'));
  fs.chmodSync(dir, 0o755);
  if (isRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  const port = 20000 + Math.floor(Math.random() * 40000);
  as(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  fs.appendFileSync(path.join(data, 'postgresql.conf'), `\nport = ${port}\nunix_socket_directories = '${dir}'\nlisten_addresses = ''\n`
    + "fsync = off\nsynchronous_commit = off\nshared_buffers = 128MB\nwork_mem = 32MB\nmaintenance_work_mem = 128MB\nmax_wal_size = 2GB\n");
  const ctl = (args) => as(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', ...args]);
  ctl(['start']);
  return {
    url: (database = 'postgres') => `postgresql://postgres@/${database}?host=${encodeURIComponent(dir)}&port=${port}`,
    psql: (sql, database = 'postgres') => as(path.join(bin, 'psql'), ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', database,
      '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', '-'], sql),
    destroy: () => {
      try { ctl(['stop', '-m', 'immediate']); } catch { /* stopped */ }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
