#!/usr/bin/env node
/**
 * `npm run bench` (after `npm run build`): the map benchmark, then the scan
 * benchmark when bench/scan-bench.mjs exists. Arguments are passed to each.
 * Exit status: non-zero when a benchmark misses a SPEC §5 target or fails.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BENCHES = ['map-bench.mjs', 'scan-bench.mjs', 'crawl-bench.mjs', 'storage-bench.mjs', 'report-bench.mjs', 'central-bench.mjs'];

let status = 0;
for (const name of BENCHES) {
  const file = path.join(HERE, name);
  if (!fs.existsSync(file)) {
    console.log(`(${name} not present, skipped)`);
    continue;
  }
  console.log(`\n=== ${name}`);
  const r = spawnSync(process.execPath, [file, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) status = r.status ?? 1;
}
process.exitCode = status;
