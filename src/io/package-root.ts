/**
 * The installed package's root directory (where package.json, migrations/,
 * reports/ and prebuilds/ live), found by walking up from this module's
 * file: the same answer from src/io (tests), dist/io (the library) and the
 * bundled dist/cli.js and dist/map-worker.js.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'imgaudit';

let root: string | undefined;

function isPackageRoot(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** The directory holding imgaudit's package.json. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (isPackageRoot(dir)) return (root = dir);
    if (path.dirname(dir) === dir) throw new Error(`imgaudit's package.json not found above ${fileURLToPath(import.meta.url)}`);
  }
}
