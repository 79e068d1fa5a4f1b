/**
 * Live differential tier for NBD exports: qemu-nbd serves raw and qcow2
 * images (whole chains) over unix and TCP sockets, with and without
 * `qemu:allocation-depth` (-A), and `imgaudit map` must print exactly what
 * `qemu-img map` prints for every way of naming the export (nbd://,
 * nbd+unix://, nbd:unix:, nbd:HOST:PORT, --image-opts, json:), for JSON and
 * human output, -s/-l windows, raw offset/size windows over the export, the
 * x-dirty-bitmap context, and QEMU's errors (missing export, refused
 * connection, wrong format).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasQemu, runOk } from '../support/qemu.js';
import { cliMissing, compareMap, describeComparison } from './differential.js';
import { type NbdServer, freePort, hasQemuNbd, startQemuNbd } from './nbd-servers.js';

const J = '--output=json';
let dir = '';
const servers: NbdServer[] = [];
let port = 0;
let refusedPort = 0;

describe.skipIf(!hasQemu || !hasQemuNbd)('NBD exports served by qemu-nbd', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'imgaudit-nbd-'));
    const sh = (cmd: string): void => void runOk(['bash', '-euo', 'pipefail', '-c', cmd], dir);
    sh(`qemu-img create -q -f qcow2 a.qcow2 4M
qemu-io -f qcow2 -c 'write -P 1 0 64k' -c 'write -z 2M 64k' a.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b a.qcow2 -F qcow2 b.qcow2
qemu-io -f qcow2 -c 'write -P 2 1M 64k' -c 'write -z 3M 128k' b.qcow2 >/dev/null
qemu-img create -q -f raw r.raw 2M
qemu-io -f raw -c 'write -P 3 512k 64k' -c 'write -P 4 1536k 4k' r.raw >/dev/null
head -c 1000100 /dev/urandom > odd.raw
truncate -s 3000000 odd.raw`);
    port = await freePort();
    refusedPort = await freePort();
    servers.push(
      await startQemuNbd(['-r', '-f', 'qcow2', '-x', 'exp1', '-k', `${dir}/q.sock`, 'b.qcow2'], dir, { path: `${dir}/q.sock` }),
      await startQemuNbd(['-r', '-A', '-f', 'qcow2', '-k', `${dir}/qa.sock`, 'b.qcow2'], dir, { path: `${dir}/qa.sock` }),
      await startQemuNbd(['-r', '-f', 'raw', '-b', '127.0.0.1', '-p', String(port), 'r.raw'], dir, { host: '127.0.0.1', port }),
      await startQemuNbd(['-r', '-f', 'raw', '-x', 'odd', '-k', `${dir}/odd.sock`, 'odd.raw'], dir, { path: `${dir}/odd.sock` }),
    );
  }, 120_000);

  afterAll(async () => {
    for (const server of servers) await server.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const cases = (): string[][] => {
    const d = dir;
    const q = `nbd+unix:///exp1?socket=${d}/q.sock`;
    const qa = `nbd+unix://?socket=${d}/qa.sock`;
    const tcp = `nbd://127.0.0.1:${port}`;
    const odd = `nbd+unix:///odd?socket=${d}/odd.sock`;
    return [
      [J, q], [q], [J, `nbd:unix:${d}/q.sock:exportname=exp1`], [`nbd:unix:${d}/q.sock:exportname=exp1`],
      [J, '-s', '64k', '-l', '1M', q], ['-s', '100', '-l', '1000000', q], [J, '-s', '3M', q], [J, '-l', '0', q],
      [J, '-f', 'raw', q], ['-f', 'qcow2', q], [J, '-U', q],
      ['--image-opts', `driver=nbd,server.type=unix,server.path=${d}/q.sock,export=exp1`],
      [J, '--image-opts', `driver=raw,file.driver=nbd,file.server.type=unix,file.server.path=${d}/q.sock,file.export=exp1,offset=1M,size=2M`],
      [J, `json:{"driver":"nbd","server":{"type":"unix","path":"${d}/q.sock"},"export":"exp1"}`],
      [`json:{"driver":"raw","file":{"driver":"nbd","path":"${d}/q.sock","export":"exp1"},"offset":65536}`],
      [J, qa], [qa],
      [J, '--image-opts', `driver=nbd,server.type=unix,server.path=${d}/qa.sock,x-dirty-bitmap=qemu:allocation-depth`],
      ['--image-opts', `driver=nbd,server.type=unix,server.path=${d}/qa.sock,x-dirty-bitmap=qemu:allocation-depth`],
      [J, '--image-opts', `driver=nbd,server.type=unix,server.path=${d}/qa.sock,x-dirty-bitmap=qemu:dirty-bitmap:nope`],
      [J, tcp], [tcp], [`${tcp}/`], [J, `nbd:127.0.0.1:${port}`], [`nbd://localhost:${port}`],
      [J, '--image-opts', `driver=nbd,host=127.0.0.1,port=${port}`], [J, '-s', '500k', '-l', '100k', tcp],
      [J, odd], [odd], [J, '-s', '999k', odd],
      [`nbd+unix:///nope?socket=${d}/q.sock`], [`nbd+unix:///?socket=${d}/q.sock`], [`nbd:unix:${d}/q.sock`],
      [`nbd+unix:///x?socket=${d}/missing.sock`], [`nbd://127.0.0.1:${refusedPort}/x`], [`nbd:127.0.0.1:${refusedPort}`],
      ['nbd://'], ['nbd:'], ['nbd+unix:///x'], ['nbd://h:p/x'], ['nbd+ssh://x'],
      ['--image-opts', `driver=nbd,server.type=unix,server.path=${d}/q.sock,tls-creds=tls0`],
    ];
  };

  it('imgaudit map prints what qemu-img map prints, for every way of naming an export', async () => {
    const problem = cliMissing();
    if (problem !== undefined) throw new Error(problem);
    const failures: string[] = [];
    for (const args of cases()) {
      const c = await compareMap(dir, args);
      if (c.problems.length > 0) failures.push(describeComparison(c));
    }
    expect(failures).toEqual([]);
  }, 300_000);
});

const hasOpenssl = runSyncOk(['openssl', 'version']);

function runSyncOk(cmd: string[]): boolean {
  try {
    runOk(cmd, tmpdir());
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasQemu || !hasQemuNbd || !hasOpenssl)('an NBD export over TLS (x509)', () => {
  let tlsDir = '';
  let server: NbdServer | undefined;
  let tlsPort = 0;

  beforeAll(async () => {
    tlsDir = mkdtempSync(join(tmpdir(), 'imgaudit-nbd-tls-'));
    runOk(['bash', '-euo', 'pipefail', '-c', `mkdir srv cli
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca-cert.pem -days 2 -subj "/CN=imgaudit test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv/server-key.pem -out srv.csr -subj "/CN=localhost" 2>/dev/null
printf "subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n" > srv.ext
openssl x509 -req -in srv.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -out srv/server-cert.pem -days 2 -extfile srv.ext 2>/dev/null
cp ca-cert.pem srv/ && cp ca-cert.pem cli/
qemu-img create -q -f raw d.raw 1M
qemu-io -f raw -c 'write -P 1 64k 64k' d.raw >/dev/null`], tlsDir);
    tlsPort = await freePort();
    server = await startQemuNbd(['-r', '-f', 'raw', '-b', '127.0.0.1', '-p', String(tlsPort),
      '--object', `tls-creds-x509,id=tls0,dir=${tlsDir}/srv,endpoint=server,verify-peer=off`, '--tls-creds', 'tls0', 'd.raw'],
    tlsDir, { host: '127.0.0.1', port: tlsPort });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (tlsDir !== '') rmSync(tlsDir, { recursive: true, force: true });
  });

  it('maps with tls-creds, and fails as qemu-img does without them', async () => {
    const object = ['--object', `tls-creds-x509,id=tls0,dir=${tlsDir}/cli,endpoint=client`];
    const failures: string[] = [];
    for (const args of [
      [...object, J, '--image-opts', `driver=nbd,host=localhost,port=${tlsPort},tls-creds=tls0`],
      [...object, '--image-opts', `driver=nbd,host=127.0.0.1,port=${tlsPort},tls-creds=tls0`],
      [J, `nbd://localhost:${tlsPort}`],
      ['--image-opts', `driver=nbd,host=localhost,port=${tlsPort},tls-creds=tls0`],
      ['--object', `tls-creds-x509,id=tls0,dir=${tlsDir}/none`, `nbd://localhost:${tlsPort}`],
    ]) {
      const c = await compareMap(tlsDir, args);
      if (c.problems.length > 0) failures.push(describeComparison(c));
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
