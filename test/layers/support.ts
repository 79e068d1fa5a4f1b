/**
 * Helpers for the per-layer tests (issue #6): shell setup in a temp
 * directory, qemu-img's map of one layer opened without its backing file
 * (the `json:` spelling with `"backing": null`), and the same map printed
 * from `layerAloneEntries` in qemu-img's JSON form.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { layerAloneEntries } from '../../src/map/own-allocation.js';
import { jsonEntry } from '../../src/map/qemu-output.js';
import type { MapEntry } from '../../src/map/map-entry.js';
import { TEST_ENV, runSync, settle } from '../support/qemu.js';

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `imgaudit-${tag}-`));
}

/** Runs shell lines (bash, `set -e`) in `dir`; qemu-io chatter is dropped. */
export function shell(dir: string, lines: readonly string[]): void {
  execFileSync('bash', ['-ec', lines.join('\n')], { cwd: dir, env: TEST_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The `json:` filename that opens `file` as `format` without its backing file. */
export function aloneSpec(file: string, format: string): string {
  const backing = format === 'raw' ? {} : { backing: null };
  return `json:${JSON.stringify({ driver: format, ...backing, file: { driver: 'file', filename: file } })}`;
}

/** qemu-img's JSON map of the layer alone (stdout, exit status and stderr). */
export function qemuAloneMap(dir: string, file: string, format: string): { stdout: string; stderr: string; code: number } {
  return runSync(['qemu-img', 'map', '--output=json', aloneSpec(file, format)], dir);
}

/** Our entries of the layer alone, printed as qemu-img's JSON; run from `dir`. */
export function oursAloneMap(dir: string, file: string, format: string): string {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const entries: MapEntry[] = [...layerAloneEntries(file, format)];
    const body = entries.map((entry, i) => jsonEntry({ entry, isLast: i === entries.length - 1 }, '7.2')).join('');
    return `[${body}]\n`;
  } finally {
    process.chdir(cwd);
  }
}

/** Parses qemu-img's JSON map into entries (offset kept when present). */
export interface QemuEntry { start: number; length: number; depth: number; present: boolean; zero: boolean; data: boolean; offset?: number }
export function parseQemuMap(stdout: string): QemuEntry[] {
  return JSON.parse(stdout) as QemuEntry[];
}

export { settle };
