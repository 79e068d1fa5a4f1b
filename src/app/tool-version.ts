/** imgaudit's version, from package.json (recorded with every run). */
import fs from 'node:fs';

let cached: string | undefined;

/** The package version, e.g. `0.1.0`. */
export function toolVersion(): string {
  if (cached === undefined) {
    const file = new URL('../../package.json', import.meta.url);
    cached = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return cached;
}
