/**
 * What `imgaudit scan` shows on stderr. On a terminal (or with --progress):
 * a progress line redrawn at most every 100 ms, errors and warnings, and a
 * summary line. Under cron (stderr not a terminal): nothing but errors, and
 * the summary line only when the exit status is not 0. --quiet: nothing.
 */
import type { ScanEvent, ScanProgress, ScanSummary } from '../../app/scan-events.js';
import { displayText } from '../../io/byte-path.js';
import { writeStderr } from '../output.js';

/** How much the scan shows. */
export type Verbosity = 'quiet' | 'cron' | 'interactive';

const REDRAW_MS = 100;
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** IEC size with one decimal (`1.5 GiB`); bytes below 1 KiB exactly. */
export function formatIec(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A duration as `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** The progress line: done/total, bytes mapped, rate, ETA. */
export function progressLine(p: ScanProgress): string {
  const total = p.isCrawlDone ? String(p.found) : `${p.found}+`;
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.done / seconds : 0;
  const parts = [`scan: ${p.done}/${total} files`, `${p.read} read, ${formatIec(p.mappedBytes)} mapped`,
    `${rate.toFixed(rate < 10 ? 1 : 0)} files/s`];
  if (p.isCrawlDone && rate > 0) parts.push(`ETA ${formatDuration(((p.found - p.done) / rate) * 1000)}`);
  return parts.join(', ');
}

/** The summary line. */
export function summaryLine(s: ScanSummary): string {
  const unchanged = s.images - s.newImages - s.changedImages;
  const warnings = s.findings.warning > 0 ? `, ${s.findings.warning} warning${s.findings.warning === 1 ? '' : 's'}` : '';
  return `scan #${s.runId} ${s.status}: ${s.images} image${s.images === 1 ? '' : 's'} ` +
    `(${s.newImages} new, ${s.changedImages} changed, ${unchanged} unchanged), ` +
    `${s.errors} error${s.errors === 1 ? '' : 's'}${warnings}, ${s.read} read (${formatIec(s.mappedBytes)}) ` +
    `in ${formatDuration(s.elapsedMs)}`;
}

/** Renders scan events on stderr according to the verbosity. */
export class ScanReporter {
  private lastDrawMs = 0;
  private isLineShown = false;
  private latest: ScanProgress | null = null;

  constructor(private readonly verbosity: Verbosity) {}

  /** Handles one event of the running scan. */
  onEvent(event: ScanEvent): void {
    if (this.verbosity === 'quiet') return;
    if (event.kind === 'progress') {
      this.latest = event.progress;
      const now = Date.now();
      if (this.verbosity === 'interactive' && now - this.lastDrawMs >= REDRAW_MS) {
        this.lastDrawMs = now;
        this.draw(progressLine(event.progress));
      }
      return;
    }
    const { finding } = event;
    if (finding.severity === 'error' || (finding.severity === 'warning' && this.verbosity === 'interactive')) {
      this.clear();
      writeStderr(`imgaudit: ${finding.severity}: ${displayText(finding.message)} [${finding.code}]\n`);
    }
  }

  /** Ends the display: the summary line, when the verbosity and the outcome call for one. */
  finish(summary: ScanSummary | null, exitStatus: number): void {
    this.clear();
    if (summary === null || this.verbosity === 'quiet') return;
    if (this.verbosity === 'interactive' || exitStatus !== 0) writeStderr(`imgaudit: ${summaryLine(summary)}\n`);
  }

  private draw(line: string): void {
    const width = process.stderr.columns ?? 100;
    writeStderr(`\r\x1b[K${line.slice(0, Math.max(20, width - 1))}`);
    this.isLineShown = true;
  }

  private clear(): void {
    if (!this.isLineShown) return;
    writeStderr('\r\x1b[K');
    this.isLineShown = false;
  }
}
