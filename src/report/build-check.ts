/**
 * Building the model of `imgaudit check`: the findings the scan recorded
 * for a run, plus those check derives from the stored chains:
 *
 * | code | severity | when |
 * |---|---|---|
 * | `E_CHAIN_DEEP` | warning | a chain has more layers than `--deep-chain-layers` (config `check.deepChainLayers`) |
 * | `E_BASE_UNUSED` | info | a base image (a file some run's chains read as a backing layer, or a file matching `--base-pattern`) that no image of this run reads |
 *
 * Findings can be silenced with `--ignore CODE` or `--ignore CODE:GLOB`
 * (GLOB relative to the image's root).
 */
import path from 'node:path';
import { globMatcher } from '../crawl/glob-match.js';
import type { Db } from '../store/db.js';
import { type ImageRecord, backingUse, runFindings, runImages } from '../store/report-images.js';
import type { CheckModel, Finding, Severity } from './model.js';
import { selectRun } from './select-run.js';

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
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 3, warning: 2, info: 1 };

/** True when a finding of `severity` reaches the `failOn` threshold (SPEC §2.6). */
export function reachesThreshold(severity: Severity, failOn: Severity | 'never'): boolean {
  return failOn !== 'never' && SEVERITY_RANK[severity] >= SEVERITY_RANK[failOn];
}

function deepChainFindings(images: readonly ImageRecord[], threshold: number): Finding[] {
  return images.filter((image) => image.chainLength > threshold).map((image) => ({
    code: 'E_CHAIN_DEEP', severity: 'warning', path: image.path, depth: image.chainLength - 1,
    message: `${image.path}: the backing chain has ${image.chainLength} layers, more than ${threshold} `
      + '(reads walk every layer; consider qemu-img commit or stream)',
  }));
}

function unusedBaseFindings(db: Db, runId: number, images: readonly ImageRecord[], patterns: readonly string[]): Finding[] {
  const isBaseName = globMatcher(patterns);
  const usedPaths = new Set<string>();
  const usedKeys = new Set<string>();
  for (const image of images) {
    for (const layer of image.layers) {
      if (layer.depth === 0) continue;
      usedPaths.add(path.resolve(layer.path));
      usedKeys.add(layer.fileKey);
    }
  }
  const lastUse = new Map<string, number>();
  for (const use of backingUse(db, runId)) {
    const key = path.resolve(use.path);
    lastUse.set(key, Math.max(lastUse.get(key) ?? 0, use.lastRunId));
  }
  const findings: Finding[] = [];
  for (const image of images) {
    if (usedPaths.has(image.path) || usedKeys.has(image.fileKey)) continue;
    const lastRunId = lastUse.get(image.path);
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
export function buildCheck(db: Db, request: CheckRequest): CheckModel {
  const run = selectRun(db, request.run);
  const images = runImages(db, run.id);
  const all: Finding[] = [
    ...runFindings(db, run.id),
    ...deepChainFindings(images, request.deepChainLayers),
    ...unusedBaseFindings(db, run.id, images, request.basePatterns),
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
