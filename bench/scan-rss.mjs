// Preload for bench/scan-bench.mjs (node --import): writes this process's
// peak resident set size in KiB to $IMGAUDIT_RSS_OUT when it exits.
import fs from 'node:fs';

process.on('exit', () => {
  const out = process.env.IMGAUDIT_RSS_OUT;
  if (out !== undefined) fs.writeFileSync(out, String(process.resourceUsage().maxRSS));
});
