/**
 * Connection settings for the central store, resolved as libpq users expect:
 * the `postgres://` URL first (its query parameters included), then the
 * service file entry it or PGSERVICE names (PGSERVICEFILE, ~/.pg_service.conf,
 * PGSYSCONFDIR/pg_service.conf), then the PG* environment variables, then
 * libpq's defaults; the password from the URL, PGPASSWORD, or the password
 * file (PGPASSFILE, ~/.pgpass, ignored unless private). `sslmode` from
 * `disable` to `verify-full` with `sslrootcert`/`sslcert`/`sslkey`. Every
 * secret is collected so that messages can be scrubbed of it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreError } from '../store-error.js';

/** True when `location` names a PostgreSQL server rather than an SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(location);
}

/** `location` with any password replaced by `***` (for messages). */
export function redactUrl(location: string): string {
  return location.replace(/^(postgres(?:ql)?:\/\/[^:@/?#]*):[^@/?#]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** What a connection needs, resolved. */
export interface ConnSettings {
  host: string;
  port: number;
  user: string;
  database: string;
  password: string | undefined;
  sslMode: SslMode;
  sslRootCert: string | undefined;
  sslCert: string | undefined;
  sslKey: string | undefined;
  applicationName: string;
  connectTimeoutSeconds: number;
  /** Text that must never appear in a message. */
  secrets: string[];
  /** How messages name the server: user@host:port/database, no password. */
  label: string;
}

const ENV: Readonly<Record<string, string>> = {
  host: 'PGHOST', port: 'PGPORT', user: 'PGUSER', dbname: 'PGDATABASE', password: 'PGPASSWORD',
  sslmode: 'PGSSLMODE', sslrootcert: 'PGSSLROOTCERT', sslcert: 'PGSSLCERT', sslkey: 'PGSSLKEY',
  application_name: 'PGAPPNAME', connect_timeout: 'PGCONNECT_TIMEOUT', passfile: 'PGPASSFILE',
};
const KNOWN = new Set([...Object.keys(ENV), 'service', 'hostaddr', 'options', 'target_session_attrs', 'gssencmode']);

/** libpq's URI form: postgres[ql]://[user[:password]@][host][:port][/dbname][?param=value&...]. */
function parseUrl(location: string): Map<string, string> {
  const bad = (why: string) => new StoreError(`invalid PostgreSQL URL '${redactUrl(location)}': ${why}`);
  const match = /^postgres(?:ql)?:\/\/(?:([^@/?#]*)@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d*))?(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(location);
  if (match === null) throw bad('expected postgres://[user[:password]@][host][:port][/database][?param=value...]');
  const decode = (text: string, what: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw bad(`bad %-escape in the ${what}`);
    }
  };
  const out = new Map<string, string>();
  const [, userinfo, host, port, dbname, query] = match;
  if (userinfo !== undefined && userinfo !== '') {
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (user !== '') out.set('user', decode(user, 'user name'));
    if (colon >= 0) out.set('password', decode(userinfo.slice(colon + 1), 'password'));
  }
  if (host !== undefined && host !== '') out.set('host', decode(host.replace(/^\[(.*)\]$/, '$1'), 'host'));
  if (port !== undefined && port !== '') out.set('port', port);
  if (dbname !== undefined && dbname !== '') out.set('dbname', decode(dbname, 'database name'));
  for (const pair of (query ?? '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) throw bad(`parameter '${pair}' has no value`);
    const key = decode(pair.slice(0, eq), 'parameters');
    if (!KNOWN.has(key)) throw bad(`unknown parameter '${key}'`);
    out.set(key, decode(pair.slice(eq + 1), 'parameters'));
  }
  return out;
}

/** The `[name]` section of a pg_service.conf, if the file has it. */
function serviceSection(file: string, name: string): Map<string, string> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let current: string | null = null;
  let found: Map<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section !== null) {
      current = section[1]!;
      if (current === name) found = new Map();
      continue;
    }
    const pair = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (pair !== null && current === name) found!.set(pair[1]!, pair[2]!);
  }
  return found;
}

function serviceSettings(name: string, env: NodeJS.ProcessEnv): Map<string, string> {
  const files = [
    env.PGSERVICEFILE ?? path.join(os.homedir(), '.pg_service.conf'),
    path.join(env.PGSYSCONFDIR ?? '/etc/postgresql-common', 'pg_service.conf'),
  ];
  for (const file of files) {
    const section = serviceSection(file, name);
    if (section !== undefined) return section;
  }
  throw new StoreError(`definition of service '${name}' not found (looked in ${files.join(', ')})`);
}

/** One field of a .pgpass line: `\:` and `\\` are escapes, `*` matches anything. */
function pgpassFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) current += line[++i];
    else if (c === ':' && fields.length < 4) {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields;
}

function pgpassPassword(file: string, wanted: readonly string[]): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return undefined;
  }
  // libpq ignores a password file others can read.
  if (!stat.isFile() || (stat.mode & 0o077) !== 0) return undefined;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = pgpassFields(line);
    if (fields.length !== 5) continue;
    if (fields.slice(0, 4).every((field, i) => field === '*' || field === wanted[i])) return fields[4];
  }
  return undefined;
}

/** Resolves the settings of `location` (a postgres:// URL) in `env`. Throws StoreError. */
export function resolveConnSettings(location: string, env: NodeJS.ProcessEnv = process.env): ConnSettings {
  const fromUrl = parseUrl(location);
  const serviceName = fromUrl.get('service') ?? env.PGSERVICE;
  const fromService = serviceName === undefined ? new Map<string, string>() : serviceSettings(serviceName, env);
  const get = (key: string): string | undefined => {
    const value = fromUrl.get(key) ?? fromService.get(key) ?? (ENV[key] === undefined ? undefined : env[ENV[key]!]);
    return value === '' ? undefined : value;
  };
  const user = get('user') ?? os.userInfo().username;
  const host = get('host') ?? '/var/run/postgresql';
  const portText = get('port') ?? '5432';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new StoreError(`invalid port '${portText}'`);
  const port = Number(portText);
  const database = get('dbname') ?? user;
  const sslText = get('sslmode') ?? 'prefer';
  if (!(SSL_MODES as readonly string[]).includes(sslText)) {
    throw new StoreError(`invalid sslmode '${sslText}' (expected ${SSL_MODES.join(', ')})`);
  }
  let password = get('password');
  if (password === undefined) {
    const passfile = get('passfile') ?? path.join(os.homedir(), '.pgpass');
    const hostField = host.startsWith('/') ? 'localhost' : host;
    password = pgpassPassword(passfile, [hostField, String(port), database, user]);
  }
  const timeoutText = get('connect_timeout') ?? '10';
  const home = path.join(os.homedir(), '.postgresql');
  const existing = (file: string): string | undefined => (fs.existsSync(file) ? file : undefined);
  return {
    host, port, user, database, password, sslMode: sslText as SslMode,
    sslRootCert: get('sslrootcert') ?? existing(path.join(home, 'root.crt')),
    sslCert: get('sslcert') ?? existing(path.join(home, 'postgresql.crt')),
    sslKey: get('sslkey') ?? existing(path.join(home, 'postgresql.key')),
    applicationName: get('application_name') ?? 'imgaudit',
    connectTimeoutSeconds: /^\d+$/.test(timeoutText) ? Math.max(2, Number(timeoutText)) : 10,
    secrets: password === undefined || password === '' ? [] : [password],
    label: `${user}@${host.startsWith('/') ? `[${host}]` : host}:${port}/${database}`,
  };
}
