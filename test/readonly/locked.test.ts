/**
 * Mapping an image that another process holds open for writing (a running
 * VM, an interactive qemu-io): qemu-img map needs -U then. imgaudit never
 * takes a lock: it probes QEMU's lock bytes and refuses exactly as qemu-img
 * does without -U, and prints what qemu-img -U prints with it. The writer is
 * qemu-io when installed (it takes QEMU's write lock), otherwise a node
 * process holding the file open O_RDWR (which takes no QEMU lock, so imgaudit
 * maps it either way).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDist, runCli, tempDir } from '../support/imgaudit.js';
import { hasQemu, qemuMap } from '../support/qemu.js';
import { buildImageSet } from './fixtures.js';

let dir: string;
let writer: ChildProcess | undefined;

/** Starts a process that holds `file` open read-write; resolves once it has it open. */
function holdForWriting(file: string): Promise<ChildProcess> {
  const child = hasQemu
    ? spawn('qemu-io', ['-f', 'qcow2', file], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(file)}, 'r+'); console.log('qemu-io> '); setInterval(() => {}, 1e6);`],
      { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('qemu-io> ')) resolve(child);
    });
    child.stdin!.write('\n'); // qemu-io prints its prompt once it reads a line
    child.once('exit', (code) => reject(new Error(`writer exited early (${code}): ${seen}`)));
  });
}

function stopWriter(): Promise<void> {
  const child = writer;
  writer = undefined;
  if (child === undefined || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    if (hasQemu) child.stdin!.end('quit\n');
    else child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  dir = tempDir('locked');
  buildImageSet(dir);
  writer = await holdForWriting(path.join(dir, 'top.qcow2'));
}, 60_000);
afterAll(async () => {
  await stopWriter();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasDist)('an image held open for writing by another process', () => {
  it('the writer really holds it open read-write', () => {
    const fds = fs.readdirSync(`/proc/${writer!.pid}/fd`).filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/${writer!.pid}/fd/${fd}`) === path.join(dir, 'top.qcow2');
      } catch {
        return false;
      }
    });
    expect(fds.length).toBeGreaterThan(0);
    const flags = fds.map((fd) => parseInt(/^flags:\s+([0-7]+)/m.exec(fs.readFileSync(`/proc/${writer!.pid}/fdinfo/${fd}`, 'utf8'))![1]!, 8));
    expect(flags.some((f) => (f & 3) === 2)).toBe(true);
  });

  it.each([['with -U', ['-U']], ['with --force-share', ['--force-share']]])('imgaudit map %s works', (_name, flags) => {
    const ours = runCli(['map', ...flags, '--output=json', 'top.qcow2'], dir);
    expect({ code: ours.code, stderr: ours.stderr }).toEqual({ code: 0, stderr: '' });
    if (hasQemu) expect(ours.stdout).toBe(qemuMap(['-U', '--output=json', 'top.qcow2'], dir).stdout);
  });

  it.skipIf(!hasQemu)('qemu-img map without -U is refused (the lock is real)', () => {
    const qemu = qemuMap(['--output=json', 'top.qcow2'], dir);
    expect(qemu.code).toBe(1);
    expect(qemu.stderr).toMatch(/Failed to get shared "write" lock/);
  });

  it.skipIf(!hasQemu)('imgaudit map without -U refuses as qemu-img does, and the writer keeps its lock', () => {
    const qemu = qemuMap(['--output=json', 'top.qcow2'], dir);
    const ours = runCli(['map', '--output=json', 'top.qcow2'], dir);
    expect({ code: ours.code, stdout: ours.stdout, stderr: ours.stderr })
      .toEqual({ code: qemu.code, stdout: qemu.stdout, stderr: qemu.stderr.replace(/^qemu-img: /gm, 'imgaudit: ') });
    expect(writer!.exitCode).toBeNull();
  });
});
