/** imgaudit's version, from package.json (recorded with every run). */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../io/package-root.js';

let cached: string | undefined;

/** The package version, e.g. `0.1.0`. */
export function toolVersion(): string {
  if (cached === undefined) {
    const file = path.join(packageRoot(), 'package.json');
    cached = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return cached;
}
