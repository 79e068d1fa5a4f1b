/**
 * Live tier for the reclaim figures (issues #6, #15), on RECLAIM_CHAINS
 * (default 24: the CI budget; run more by hand) seeded random chains (qcow2
 * over qcow2 — cluster sizes 512 B to 2 MiB, extended L2, compat 0.10,
 * other refcount widths, bases empty, half or nearly full — and qcow2 over
 * raw; see reclaim-chains.ts), each checked against qemu-img itself:
 *
 * - estimateCommit: a real `qemu-img commit` of the top, on copies; the
 *   backing file's host-backed bytes (its map alone: entries with an
 *   offset, or data entries for raw) after minus before must equal every
 *   estimate that is not null — from whole maps or present entries only,
 *   with every layer fact or none — and a two-layer chain must get one
 *   (from present entries too, unless a layer has extended L2 entries);
 * - its host figures (qcow2 backing file, given its L1/refcount layout as
 *   readQcow2HostLayout reads it): data growth equal to qemu-img check's
 *   allocated clusters after minus before; the refcounted clusters (data
 *   and metadata, counted by the oracle's own refcount scan) and qemu-img
 *   check's image end offset within the ranges given — byte-identical
 *   wherever a range is a single value; the tally printed at the end says
 *   how often that was;
 * - shadowedBytes / baseSharing: cells cut at every edge of qemu-img's maps
 *   of the chains and of the layers alone (reclaim-oracle.ts).
 *
 * Reproduce: LIVE_SEED=<seed> RECLAIM_ONLY=<i> npx vitest run --config test/vitest.config.ts test/layers/reclaim.live.test.ts
 * (RECLAIM_KEEP=1 keeps the directories and prints them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostFile } from '../../src/io/host-file.js';
import { readQcow2HostLayout } from '../../src/formats/qcow2/host-layout.js';
import { type ByteRange, baseSharing, estimateCommit, shadowedBytes } from '../../src/map/reclaim/index.js';
import { deriveSeed, formatSeed, Rng, seedFromEnv } from '../support/prng.js';
import { hasQemu, runSync } from '../support/qemu.js';
import { generateReclaimChain, type ReclaimChain } from './reclaim-chains.js';
import {
  type Cell, cells, copySparse, diskUsageBytes, hostBackedBytes, qemuCheck, qemuMapEntries, refcountedClusters, specCategory,
  toMapEntry,
} from './reclaim-oracle.js';
import { shell, tempDir } from './support.js';

const SEED = seedFromEnv('LIVE_SEED');
const CHAINS = Number(process.env.RECLAIM_CHAINS ?? 24);
const ONLY = (process.env.RECLAIM_ONLY ?? '').split(',').filter((s) => s.trim() !== '').map(Number);
const indexes = ONLY.length > 0 ? ONLY : Array.from({ length: CHAINS }, (_, i) => i);
const KEEP = process.env.RECLAIM_KEEP === '1';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** st_blocks growth next to host-backed growth, printed at the end (metadata overhead). */
const usage: string[] = [];
/** How the host figures (data + metadata, end offset) came out, per chain: exact, range or null. */
const hostTally = { exact: 0, allocatedRange: 0, endRange: 0, hostNull: 0, estimateNull: 0, raw: 0, failed: 0 };

function describeChain(c: ReclaimChain): string {
  const l = (x: ReclaimChain['top']['layout']): string =>
    `c=${x.clusterBytes} v=${x.compat}${x.extendedL2 ? ' extl2' : ''}${x.refcountBits === undefined ? '' : ` rc=${x.refcountBits}`}`;
  const lower = c.base.hasBackingFile ? 'qcow2 <- ' : '';
  const base = c.base.layout === null ? `raw ${c.base.sizeBytes}`
    : `${lower}qcow2 ${c.base.sizeBytes} ${l(c.base.layout)} ${c.base.fill}`;
  return `${base} <- qcow2 ${c.top.sizeBytes} ${l(c.top.layout)}`;
}

describe.skipIf(!hasQemu)(`reclaim figures against qemu-img (LIVE_SEED=${formatSeed(SEED)})`, () => {
  const root = tempDir('reclaim');
  afterAll(() => {
    if (usage.length > 0) console.log(`host-backed growth vs st_blocks growth (bytes):\n${usage.join('\n')}`);
    console.log(`commit host figures (stored facts): ${JSON.stringify(hostTally)}`);
    if (KEEP) console.log(`kept: ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  });

  for (const i of indexes) {
    const chainSeed = deriveSeed(SEED, i);
    it(`chain #${i} (seed ${formatSeed(chainSeed)})`, { timeout: 120_000 }, async () => {
      const chain = generateReclaimChain(new Rng(chainSeed));
      const dir = path.join(root, `chain-${i}`);
      fs.mkdirSync(dir);
      shell(dir, chain.lines);
      const context = `chain #${i}: ${describeChain(chain)}\n${chain.lines.join('\n')}`;
      checkSharingAndShadow(dir, chain, context);
      await turn(); // let the worker answer vitest's RPC between the synchronous qemu runs
      checkCommit(dir, path.join(root, `commit-${i}`), chain, context);
    });
  }
});

function checkSharingAndShadow(dir: string, chain: ReclaimChain, context: string): void {
  const { base } = chain;
  const isRaw = base.format === 'raw';
  const baseAlone = qemuMapEntries(dir, base.file, base.format, true);
  const overlays = [chain.top.file, ...chain.siblings];
  const chainMaps = overlays.map((file) => qemuMapEntries(dir, file, 'qcow2', false));
  const baseEnd = baseAlone.reduce((end, e) => Math.max(end, e.start + e.length), 0);
  const chainEnds = chainMaps.map((m) => m.reduce((end, e) => Math.max(end, e.start + e.length), 0));
  const grid = cells([baseAlone, ...chainMaps], Math.max(baseEnd, ...chainEnds));

  // Oracle, per cell: the base's own category, and which overlays read it.
  const ownOf = (c: Cell) => { const e = c.entries[0]; return e?.present && e.depth === 0 ? specCategory(e, isRaw) : undefined; };
  const readOf = (c: Cell, k: number) => { const e = c.entries[k + 1]; return e?.present && e.depth === 1 ? specCategory(e, isRaw) : undefined; };
  const expected = { readBytes: 0, sharedBytes: 0, unreadBytes: 0, overlays: overlays.map(() => ({ readBytes: 0, uniqueBytes: 0 })) };
  for (const c of grid) {
    const bytes = c.end - c.start;
    const readers = overlays.map((_, k) => (readOf(c, k) !== undefined ? k : -1)).filter((k) => k >= 0);
    if (readers.length === 0 && ownOf(c) !== undefined) expected.unreadBytes += bytes;
    if (readers.length > 0) expected.readBytes += bytes;
    if (readers.length > 1) expected.sharedBytes += bytes;
    for (const k of readers) {
      expected.overlays[k]!.readBytes += bytes;
      if (readers.length === 1) expected.overlays[k]!.uniqueBytes += bytes;
    }
  }
  const sharing = baseSharing(baseAlone.map(toMapEntry), chainMaps.map((m) => m.map(toMapEntry)));
  expect(sharing, context).toEqual(expected);

  // Shadowed bytes of the base in each overlay's chain, by category; and own − visible totals agree.
  chainMaps.forEach((m, k) => {
    const topSize = chainEnds[k]!;
    const shadow = { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 };
    const ownTotals = { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 };
    const visibleTotals = { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 };
    const key = (c: string): keyof typeof shadow => (c === 'data' ? 'dataBytes' : c === 'zero' ? 'zeroBytes' : 'preallocatedBytes');
    for (const c of grid) {
      if (c.start >= topSize) break;
      const bytes = Math.min(c.end, topSize) - c.start;
      const o = ownOf(c);
      const v = readOf(c, k);
      if (o !== undefined) ownTotals[key(o)] += bytes;
      if (v !== undefined) visibleTotals[key(v)] += bytes;
      if (o !== undefined && v === undefined) shadow[key(o)] += bytes;
    }
    const got = shadowedBytes(baseAlone.map(toMapEntry), m.map(toMapEntry), 1, isRaw, topSize);
    expect(got, `${context}\noverlay ${overlays[k]}`).toEqual(shadow);
    expect({
      dataBytes: ownTotals.dataBytes - visibleTotals.dataBytes,
      zeroBytes: ownTotals.zeroBytes - visibleTotals.zeroBytes,
      preallocatedBytes: ownTotals.preallocatedBytes - visibleTotals.preallocatedBytes,
    }, `${context}\noverlay ${overlays[k]}: own − visible totals`).toEqual(got);
    // The top reads all it holds within its own size.
    const topAlone = qemuMapEntries(dir, overlays[k]!, 'qcow2', true).map(toMapEntry);
    expect(shadowedBytes(topAlone, m.map(toMapEntry), 0, false, topSize)).toEqual({ dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 });
  });
}

function checkCommit(dir: string, commitDir: string, chain: ReclaimChain, context: string): void {
  copySparse(dir, commitDir);
  const { base, top } = chain;
  const topAlone = qemuMapEntries(commitDir, top.file, 'qcow2', true).map(toMapEntry);
  const baseAlone = qemuMapEntries(commitDir, base.file, base.format, true).map(toMapEntry);
  const topUsage = diskUsageBytes(commitDir, top.file);
  const isQcow2 = base.format === 'qcow2';
  const hostFile = isQcow2 ? HostFile.open(path.join(commitDir, base.file)) : null;
  const layout = hostFile === null ? undefined : readQcow2HostLayout(hostFile) ?? undefined;
  hostFile?.close();
  const knownBacking = {
    format: base.format, clusterSizeBytes: base.layout?.clusterBytes ?? null, virtualSizeBytes: base.sizeBytes,
    hasBackingFile: base.hasBackingFile,
    ...(base.layout ? { qcow2Compat: base.layout.compat, extendedL2: base.layout.extendedL2, layout } : {}),
  };
  const knownTop = {
    diskUsageBytes: topUsage, virtualSizeBytes: top.sizeBytes, format: 'qcow2',
    clusterSizeBytes: top.layout.clusterBytes, extendedL2: top.layout.extendedL2,
  };
  // Every fact, whole maps of each layer alone.
  const full = estimateCommit(topAlone, baseAlone, knownBacking, knownTop);
  // Every fact, present depth-0 entries only (what the store keeps).
  const own = (entries: typeof topAlone) => entries.filter((e) => e.present && e.depth === 0);
  const stored = estimateCommit(own(topAlone), own(baseAlone), knownBacking, knownTop);
  // The signature's facts only: no optional ones.
  const minimal = estimateCommit(own(topAlone), own(baseAlone),
    { format: base.format, clusterSizeBytes: base.layout?.clusterBytes ?? null, virtualSizeBytes: base.sizeBytes },
    { diskUsageBytes: topUsage });

  const beforeBytes = hostBackedBytes(commitDir, base.file, base.format);
  const usageBefore = diskUsageBytes(commitDir, base.file);
  const checkBefore = isQcow2 ? qemuCheck(commitDir, base.file) : null;
  const refcountedBefore = isQcow2 ? refcountedClusters(commitDir, base.file) : 0;
  if (layout !== undefined) {
    // The layout reader against qemu-img check and the oracle's own refcount scan.
    expect([layout.allocatedClusters, layout.endCluster * base.layout!.clusterBytes], `${context}\nlayout`)
      .toEqual([refcountedBefore, checkBefore!.imageEndOffset]);
  }
  const commit = runSync(['qemu-img', 'commit', '-q', '-f', 'qcow2', top.file], commitDir);
  if (commit.code !== 0) {
    // E.g. growing a v2 backing file whose own backing file is longer needs zero writes v2 cannot do.
    usage.push(`${describeChain(chain)}: qemu-img commit failed: ${commit.stderr.trim()}`);
    hostTally.failed++;
    expect([full, stored, minimal], `${context}\nqemu-img commit failed: ${commit.stderr}`).toEqual([null, null, null]);
    return;
  }
  const afterBytes = hostBackedBytes(commitDir, base.file, base.format);
  const usageAfter = diskUsageBytes(commitDir, base.file);
  const growthBytes = afterBytes - beforeBytes;
  const shown = (r: typeof full): string => (r === null ? 'null' : 'exact');
  usage.push(`${describeChain(chain)}: host-backed ${growthBytes}, st_blocks ${usageAfter - usageBefore}`
    + `; full ${shown(full)}, stored ${shown(stored)}, minimal ${shown(minimal)}`);
  const repro = `${context}\nreal growth ${growthBytes} (before ${beforeBytes}, after ${afterBytes})`;
  // A two-layer chain is always predicted from whole maps; present-only maps only lose extended-L2 edges.
  if (!base.hasBackingFile) expect(full, repro).not.toBeNull();
  if (!base.hasBackingFile && !base.layout?.extendedL2 && !top.layout.extendedL2) expect(stored, `${repro}\n(stored)`).not.toBeNull();
  for (const [name, estimate] of [['full', full], ['stored', stored], ['minimal', minimal]] as const) {
    if (estimate === null) continue;
    expect(estimate.backingGrowthBytes, `${repro}\n(${name} facts)`).toBe(growthBytes);
    expect(estimate.topFreedBytes).toBe(topUsage);
  }
  if (!isQcow2) {
    hostTally.raw++;
    for (const estimate of [full, stored, minimal]) expect(estimate?.host).toBeUndefined();
    return;
  }
  // The host figures: qemu-img check's data clusters and image end offset, and the refcounted clusters.
  const clusterBytes = base.layout!.clusterBytes;
  const checkAfter = qemuCheck(commitDir, base.file);
  const real = {
    dataGrowthBytes: (checkAfter.allocatedClusters - checkBefore!.allocatedClusters) * clusterBytes,
    allocatedGrowthBytes: (refcountedClusters(commitDir, base.file) - refcountedBefore) * clusterBytes,
    endGrowthBytes: checkAfter.imageEndOffset - checkBefore!.imageEndOffset,
  };
  const hostRepro = `${repro}\nreal host growth ${JSON.stringify(real)}\nlayout ${JSON.stringify(layout)}`;
  const within = (range: ByteRange, value: number, what: string): void => {
    expect(value >= range.min && value <= range.max, `${hostRepro}\n${what} ${value} outside ${JSON.stringify(range)}`).toBe(true);
  };
  for (const [name, estimate] of [['full', full], ['stored', stored]] as const) {
    if (estimate === null) continue;
    expect(estimate.host, `${hostRepro}\n(${name}): host figures without the layout`).not.toBeUndefined();
    const host = estimate.host;
    if (host === null || host === undefined) continue;
    expect(host.dataGrowthBytes, `${hostRepro}\n(${name}) data growth`).toBe(real.dataGrowthBytes);
    within(host.allocatedGrowthBytes, real.allocatedGrowthBytes, `(${name}) allocated growth`);
    within(host.endGrowthBytes, real.endGrowthBytes, `(${name}) end offset growth`);
    expect(host.allocatedGrowthBytes.min - host.metadataGrowthBytes.min).toBe(host.dataGrowthBytes);
  }
  // Without the layout (the signature's facts only) there are no host figures.
  expect(minimal?.host).toBeUndefined();
  const host = stored?.host;
  usage.push(`  host: ${JSON.stringify(host)} real ${JSON.stringify(real)} holes ${layout!.endCluster - layout!.allocatedClusters}`
    + ` plain ${layout!.plain}`);
  if (host === undefined) hostTally.estimateNull++;
  else if (host === null) hostTally.hostNull++;
  else if (host.allocatedGrowthBytes.min !== host.allocatedGrowthBytes.max) hostTally.allocatedRange++;
  else if (host.endGrowthBytes.min !== host.endGrowthBytes.max) hostTally.endRange++;
  else hostTally.exact++;
}
