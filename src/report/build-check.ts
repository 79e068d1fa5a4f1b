/**
 * Building the model of `imgaudit check`: the findings the scan recorded
 * for a run, plus those check derives from the stored chains and estate:
 *
 * | code | severity | when |
 * |---|---|---|
 * | `E_CHAIN_DEEP` | warning | a chain has more layers than `--deep-chain-layers` (config `check.deepChainLayers`) |
 * | `E_IMAGE_ORPHAN` | warning | reference sources are configured, no reference names the image, no image of the run reads it as a backing file, and it has not changed for `--orphan-min-age` (config `check.orphanMinAge`) |
 * | `E_BASE_ORPHANED` | warning | a file earlier kept runs' chains read as a backing layer that no chain of this run reads (its overlays all vanished), still an image of this run, unchanged for `--orphan-min-age`, named by no reference |
 * | `E_BASE_UNUSED` | info | such a base that changed more recently or that a reference names, or a file matching `--base-pattern` that no image of this run reads |
 * | `E_FS_FILLING` | warning | a root's file system is projected (disk usage growth over the kept runs) to run out of available space within `--fill-warning-days` (config `check.fillWarningDays`) |
 * | `E_FS_OVERCOMMIT` | warning | the virtual sizes of the images on a file system exceed its capacity more than `--overcommit-ratio` times (config `check.overcommitRatio`) |
 * | `E_SNAPSHOT_OLD` | warning | a layer holds qcow2 internal snapshots older than `--snapshot-max-age` (config `check.snapshotMaxAge`) |
 * | `E_SNAPSHOT_EXTERNAL_OLD` | info | a backing file read directly by exactly one overlay (an external snapshot, or a base with one clone) unchanged for longer than `--snapshot-max-age` |
 *
 * Ages are measured at the run's start. Findings can be silenced with
 * `--ignore CODE` or `--ignore CODE:GLOB` (GLOB relative to the image's root).
 */
import path from 'node:path';
import { DEFAULT_CONFIG } from '../config/config.js';
import { durationMs } from '../config/parsers.js';
import { globMatcher } from '../crawl/glob-match.js';
import type { Db } from '../store/db.js';
import { type ImageRecord, runFindings, runImages } from '../store/report-images.js';
import { runSnapshots } from '../store/report-layers.js';
import type { RunRecord } from '../store/report-runs.js';
import { growthFigures } from './growth-figures.js';
import { type RunLayers, readRunLayers } from './layer-reports.js';
import type { CheckModel, FilesystemReport, Finding, Severity } from './model.js';
import { type OrphanSearch, backingLayerTest, findOrphans } from './orphans.js';
import { selectRun } from './select-run.js';
import { deviceName, formatBytesDelta, formatIec } from './units.js';

/** A rule silencing findings of `code` (under `glob`, when given). */
export interface IgnoreRule {
  code: string;
  glob: string | null;
}

/** What to check. */
export interface CheckRequest {
  run: number | 'latest';
  failOn: Severity | 'never';
  deepChainLayers: number;
  /** Globs (relative to each root) of files that are base images even when nothing reads them. */
  basePatterns: readonly string[];
  ignore: readonly IgnoreRule[];
  /** Warn when a file system is projected to fill within this many days (default: the config default). */
  fillWarningDays?: number;
  /** Warn when the virtual sizes on a file system exceed its capacity by this factor. */
  overcommitRatio?: number;
  /** Snapshots older than this are reported (milliseconds). */
  snapshotMaxAgeMs?: number;
  /** Orphans unchanged for less than this are not reported (milliseconds). */
  orphanMinAgeMs?: number;
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 3, warning: 2, info: 1 };
const DAY_MS = 86_400_000;

/** True when a finding of `severity` reaches the `failOn` threshold (SPEC §2.6). */
export function reachesThreshold(severity: Severity, failOn: Severity | 'never'): boolean {
  return failOn !== 'never' && SEVERITY_RANK[severity] >= SEVERITY_RANK[failOn];
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function deepChainFindings(images: readonly ImageRecord[], threshold: number): Finding[] {
  return images.filter((image) => image.chainLength > threshold).map((image) => ({
    code: 'E_CHAIN_DEEP', severity: 'warning', path: image.path, depth: image.chainLength - 1,
    message: `${image.path}: the backing chain has ${image.chainLength} layers, more than ${threshold} `
      + '(reads walk every layer; consider qemu-img commit or stream)',
  }));
}

/** Orphans, orphaned bases, and bases nothing reads that are not (yet) orphans. */
function orphanFindings(images: readonly ImageRecord[], search: OrphanSearch, patterns: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  const reported = new Set<string>();
  for (const orphan of search.orphans) {
    reported.add(orphan.path);
    const age = `unchanged for ${plural(orphan.ageDays, 'day')}, ${formatIec(orphan.diskUsageBytes)} on disk`;
    findings.push(orphan.kind === 'base'
      ? {
        code: 'E_BASE_ORPHANED', severity: 'warning', path: orphan.path, depth: null,
        message: `${orphan.path}: base image whose overlays all vanished (chains last read it in run #${orphan.lastReadRunId}); `
          + `${age}; a candidate for removal`,
      }
      : {
        code: 'E_IMAGE_ORPHAN', severity: 'warning', path: orphan.path, depth: null,
        message: `${orphan.path}: no reference names this image and no image of the run reads it as a backing file; `
          + `${age}; forgotten?`,
      });
  }
  const lastRead = new Map(search.unreadBases.map((base) => [base.path, base.lastReadRunId]));
  const isBackingLayer = backingLayerTest(images);
  const isBaseName = globMatcher(patterns);
  for (const image of images) {
    // An image a process holds open (a running VM's disk, an exported base) is in use, whatever reads it.
    if (reported.has(image.path) || isBackingLayer(image) || (image.inUse ?? null) !== null) continue;
    const lastRunId = lastRead.get(image.path);
    const relative = path.relative(image.root, image.path).split(path.sep).join('/');
    if (lastRunId === undefined && !isBaseName(relative)) continue;
    const why = lastRunId === undefined ? 'it matches a base pattern' : `chains last read it in run #${lastRunId}`;
    findings.push({
      code: 'E_BASE_UNUSED', severity: 'info', path: image.path, depth: null,
      message: `${image.path}: base image that no scanned image reads (${why}); a candidate for removal`,
    });
  }
  return findings;
}

function filesystemFindings(filesystems: readonly FilesystemReport[], fillWarningDays: number, overcommitRatio: number): Finding[] {
  const findings: Finding[] = [];
  for (const fs of filesystems) {
    const where = `${fs.roots.join(', ')} (file system ${deviceName(fs.dev)})`;
    if (fs.daysToFull !== null && fs.daysToFull <= fillWarningDays) {
      findings.push({
        code: 'E_FS_FILLING', severity: 'warning', path: fs.roots[0]!, depth: null,
        message: `${where}: ${formatIec(fs.availableBytes)} available, image disk usage growing by `
          + `${formatBytesDelta(fs.growthPerDayBytes ?? 0, false)} a day: full in ${fs.daysToFull} days (around ${fs.fillsAt}), `
          + `within ${fillWarningDays}`,
      });
    }
    if (fs.overcommitRatio !== null && fs.overcommitRatio > overcommitRatio) {
      findings.push({
        code: 'E_FS_OVERCOMMIT', severity: 'warning', path: fs.roots[0]!, depth: null,
        message: `${where}: the images' virtual sizes (${formatIec(fs.virtualSizeBytes)}) are ${fs.overcommitRatio.toFixed(2)} times `
          + `the capacity (${formatIec(fs.capacityBytes)}), more than ${overcommitRatio}; guests writing their disks full would fill it`,
      });
    }
  }
  return findings;
}

function snapshotFindings(db: Db, run: RunRecord, images: readonly ImageRecord[], layers: RunLayers, maxAgeMs: number): Finding[] {
  const startMs = Date.parse(run.startedAt);
  const days = (ms: number): number => Math.floor(ms / DAY_MS);
  const findings: Finding[] = [];
  const old = new Map<string, { path: string; snapshots: { name: string; id: string; createdAt: string }[] }>();
  for (const snapshot of runSnapshots(db, run.id)) {
    if (startMs - Date.parse(snapshot.createdAt) <= maxAgeMs) continue;
    const entry = old.get(snapshot.fileKey) ?? { path: path.resolve(snapshot.path), snapshots: [] };
    entry.snapshots.push({ name: snapshot.name, id: snapshot.snapshotId, createdAt: snapshot.createdAt });
    old.set(snapshot.fileKey, entry);
  }
  for (const { path: file, snapshots } of old.values()) {
    const oldest = snapshots.reduce((a, b) => (Date.parse(b.createdAt) < Date.parse(a.createdAt) ? b : a));
    findings.push({
      code: 'E_SNAPSHOT_OLD', severity: 'warning', path: file, depth: null,
      message: `${file}: ${plural(snapshots.length, 'qcow2 internal snapshot')} older than ${days(maxAgeMs)} days, the oldest `
        + `'${oldest.name}' (id ${oldest.id}) from ${oldest.createdAt.slice(0, 10)}; snapshots keep the clusters they hold allocated `
        + '(qemu-img snapshot -l / -d)',
    });
  }
  // External snapshots: backing files read directly (at depth 1) by exactly one overlay.
  const readers = new Map<string, { path: string; mtimeMs: number; overlays: Set<string> }>();
  for (const image of images) {
    const row = layers.layers.get(image.imageId)?.find((layer) => layer.depth === 1);
    if (row === undefined) continue;
    const entry = readers.get(row.fileKey) ?? { path: path.resolve(row.path), mtimeMs: row.mtimeMs, overlays: new Set() };
    entry.overlays.add(image.path);
    readers.set(row.fileKey, entry);
  }
  for (const { path: file, mtimeMs, overlays } of readers.values()) {
    if (overlays.size !== 1 || startMs - mtimeMs <= maxAgeMs) continue;
    const [overlay] = [...overlays];
    findings.push({
      code: 'E_SNAPSHOT_EXTERNAL_OLD', severity: 'info', path: file, depth: null,
      message: `${file}: backing file read by one overlay only (${overlay}), unchanged for ${days(startMs - mtimeMs)} days: `
        + 'an external snapshot never committed, or a base with a single clone (qemu-img commit merges the overlay into it)',
    });
  }
  return findings;
}

function isIgnored(finding: Finding, rules: readonly IgnoreRule[], roots: readonly string[]): boolean {
  return rules.some((rule) => {
    if (rule.code !== finding.code) return false;
    if (rule.glob === null) return true;
    const root = roots.find((r) => finding.path === r || finding.path.startsWith(`${r}/`));
    const relative = root === undefined ? finding.path : path.relative(root, finding.path);
    return globMatcher([rule.glob])(relative);
  });
}

/** Builds the check model. Throws RunSelectionError. */
/** The thresholds of the findings check derives from the estate. */
export interface DerivedThresholds {
  deepChainLayers: number;
  basePatterns: readonly string[];
  fillWarningDays: number;
  overcommitRatio: number;
  snapshotMaxAgeMs: number;
}

/** What the derived findings are computed from (the report builds the same). */
export interface EstateFacts {
  images: readonly ImageRecord[];
  layers: RunLayers;
  orphans: OrphanSearch;
  filesystems: readonly FilesystemReport[];
}

/** The findings check derives from the stored chains and estate (not recorded by the scan). */
export function derivedFindings(db: Db, run: RunRecord, facts: EstateFacts, thresholds: DerivedThresholds): Finding[] {
  return [
    ...deepChainFindings(facts.images, thresholds.deepChainLayers),
    ...orphanFindings(facts.images, facts.orphans, thresholds.basePatterns),
    ...filesystemFindings(facts.filesystems, thresholds.fillWarningDays, thresholds.overcommitRatio),
    ...snapshotFindings(db, run, facts.images, facts.layers, thresholds.snapshotMaxAgeMs),
  ];
}

export function buildCheck(db: Db, request: CheckRequest): CheckModel {
  const run = selectRun(db, request.run);
  const images = runImages(db, run.id);
  const layers = readRunLayers(db, run.id);
  const defaults = DEFAULT_CONFIG.check;
  const orphans = findOrphans(db, run, images, layers.extras,
    { minAgeMs: request.orphanMinAgeMs ?? durationMs(defaults.orphanMinAge)! });
  const { filesystems } = growthFigures(db, run, images, { perImage: false, perRoot: false });
  const all: Finding[] = [
    ...runFindings(db, run.id),
    ...derivedFindings(db, run, { images, layers, orphans, filesystems }, {
      deepChainLayers: request.deepChainLayers, basePatterns: request.basePatterns,
      fillWarningDays: request.fillWarningDays ?? defaults.fillWarningDays,
      overcommitRatio: request.overcommitRatio ?? defaults.overcommitRatio,
      snapshotMaxAgeMs: request.snapshotMaxAgeMs ?? durationMs(defaults.snapshotMaxAge)!,
    }),
  ];
  const findings = all
    .filter((finding) => !isIgnored(finding, request.ignore, run.roots))
    .sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.code.localeCompare(b.code)
      || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) || (a.depth ?? -1) - (b.depth ?? -1));
  const counts = { error: 0, warning: 0, info: 0 };
  for (const finding of findings) counts[finding.severity]++;
  return {
    run, failOn: request.failOn, findings, counts,
    failingCount: findings.filter((finding) => reachesThreshold(finding.severity, request.failOn)).length,
  };
}
