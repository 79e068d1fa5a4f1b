import { it } from 'vitest';
import { deriveSeed, Rng } from '../support/prng.js';
import { runOk } from '../support/qemu.js';
import { generateChain } from './chain-gen.js';
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { execSync } from 'node:child_process';
it('probe', () => {
  let total = 0; const N = Number(process.env.N ?? 200); let maxDu = 0; let fails = 0;
  for (let i = 0; i < N; i++) {
    const r = generateChain(new Rng(deriveSeed(0x5eed2024, i)));
    const dir = mkdtempSync('/tmp/probe-');
    const t0 = Date.now();
    try { for (const c of r.cmds) runOk(c, dir); } catch (e) { fails++; console.log(`#${i} FAIL`, String(e).slice(0, 600)); }
    const dt = Date.now() - t0; total += dt;
    const du = Number(execSync(`du -sk ${dir}`).toString().split('\t')[0]);
    maxDu = Math.max(maxDu, du);
    if (dt > 400 || du > 20000) console.log(`#${i} build ${dt}ms du=${du}k`, r.layers.map(l => `${l.fmt}:${l.size}:${l.cluster}${l.prealloc?'P':''}`).join(' '));
    rmSync(dir, { recursive: true });
  }
  console.log('total build ms', total, 'maxDu', maxDu, 'fails', fails);
}, 600000);
