/**
 * Connection settings for the central store, resolved as libpq does: URL
 * first, then the service file, the PG* environment, defaults; the password
 * file only when private; every message without the password.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPostgresUrl, redactUrl, resolveConnSettings } from '../../../src/store/pg/conninfo.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-conninfo-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const NO_FILES = { PGPASSFILE: path.join(dir, 'none'), PGSERVICEFILE: path.join(dir, 'none'), PGSYSCONFDIR: dir };

describe('resolveConnSettings', () => {
  it('reads every part of a URL, %-decoded', () => {
    const s = resolveConnSettings('postgresql://us%40er:p%3Ass@db.example:6543/fleet%20db?sslmode=verify-full&application_name=x', NO_FILES);
    expect(s).toMatchObject({ host: 'db.example', port: 6543, user: 'us@er', password: 'p:ss', database: 'fleet db', sslMode: 'verify-full',
      applicationName: 'x', label: 'us@er@db.example:6543/fleet db', secrets: ['p:ss'] });
  });

  it('takes a unix socket directory from ?host= and an IPv6 literal from brackets', () => {
    expect(resolveConnSettings('postgres://u@/d?host=%2Frun%2Fpg&port=5433', NO_FILES)).toMatchObject({ host: '/run/pg', port: 5433, user: 'u', database: 'd' });
    expect(resolveConnSettings('postgres://u@[::1]:5432/d', NO_FILES).host).toBe('::1');
  });

  it('fills what the URL lacks from PG* variables, then libpq defaults', () => {
    const env = { ...NO_FILES, PGHOST: 'central', PGPORT: '7000', PGUSER: 'pusher', PGDATABASE: 'imgaudit', PGPASSWORD: 'pw', PGSSLMODE: 'require' };
    expect(resolveConnSettings('postgresql://', env)).toMatchObject({ host: 'central', port: 7000, user: 'pusher', database: 'imgaudit', password: 'pw', sslMode: 'require' });
    expect(resolveConnSettings('postgresql://other@/', env)).toMatchObject({ user: 'other', database: 'imgaudit' });
    const defaults = resolveConnSettings('postgresql://', NO_FILES);
    expect(defaults).toMatchObject({ host: '/var/run/postgresql', port: 5432, sslMode: 'prefer', password: undefined });
    expect(defaults.database).toBe(defaults.user);
  });

  it('reads a service file entry under the URL and over the environment', () => {
    const file = path.join(dir, 'services.conf');
    fs.writeFileSync(file, '# services\n[other]\nhost=no\n\n[central]\nhost=svc-host\nport=6000\ndbname=svcdb\nuser = svc-user\n');
    const env = { ...NO_FILES, PGSERVICEFILE: file, PGHOST: 'env-host', PGUSER: 'env-user' };
    expect(resolveConnSettings('postgresql://?service=central', env)).toMatchObject({ host: 'svc-host', port: 6000, database: 'svcdb', user: 'svc-user' });
    expect(resolveConnSettings('postgresql://url-user@?service=central', env).user).toBe('url-user');
    expect(resolveConnSettings('postgresql://', { ...env, PGSERVICE: 'central' }).host).toBe('svc-host');
    expect(() => resolveConnSettings('postgresql://?service=missing', env)).toThrow(/definition of service 'missing' not found/);
  });

  it('reads the password file when it is private, with wildcards and escapes', () => {
    const file = path.join(dir, 'pgpass');
    fs.writeFileSync(file, '# comment\nother:5432:*:pusher:wrong\nlocalhost:5432:db\\:1:pusher:pa\\:ss\n*:*:*:reader:any\n', { mode: 0o600 });
    const env = { ...NO_FILES, PGPASSFILE: file };
    expect(resolveConnSettings('postgresql://pusher@/db%3A1?host=/sock', env).password).toBe('pa:ss');
    expect(resolveConnSettings('postgresql://reader@db.example/x', env).password).toBe('any');
    expect(resolveConnSettings('postgresql://pusher@db.example/x', env).password).toBeUndefined();
    fs.chmodSync(file, 0o644);
    expect(resolveConnSettings('postgresql://reader@db.example/x', env).password).toBeUndefined();
  });

  it('refuses bad URLs with a message that hides the password', () => {
    const cases: [string, RegExp][] = [
      ['postgresql://u:Secr3t@h:99999/d', /invalid port '99999'/],
      ['postgresql://u:Secr3t@h:x/d', /invalid PostgreSQL URL 'postgresql:\/\/u:\*\*\*@h:x\/d'/],
      ['postgresql://u:Secr3t@h/d?bogus=1', /unknown parameter 'bogus'/],
      ['postgresql://u:Secr3t@h/d?sslmode', /parameter 'sslmode' has no value/],
      ['postgresql://u:Secr3t@h/d?sslmode=sometimes', /invalid sslmode 'sometimes'/],
      ['postgresql://u:Secr%zz@h/d', /bad %-escape in the password/],
    ];
    for (const [url, message] of cases) {
      let error: Error | undefined;
      try {
        resolveConnSettings(url, NO_FILES);
      } catch (caught) {
        error = caught as Error;
      }
      expect(error?.message, url).toMatch(message);
      expect(error?.message, url).not.toContain('Secr3t');
    }
  });
});

describe('isPostgresUrl and redactUrl', () => {
  it('tells URLs from files and hides passwords', () => {
    expect(isPostgresUrl('postgres://x')).toBe(true);
    expect(isPostgresUrl('PostgreSQL://x')).toBe(true);
    expect(isPostgresUrl('./postgres.db')).toBe(false);
    expect(redactUrl('postgresql://u:pw@h/d?password=also&x=1')).toBe('postgresql://u:***@h/d?password=***&x=1');
    expect(redactUrl('postgresql://u@h/d')).toBe('postgresql://u@h/d');
  });
});
