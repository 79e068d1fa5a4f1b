/**
 * The scan use case with an injected chain opener: an unchanged re-scan
 * opens no image, a changed file is re-read, `isFull` re-reads all, an image
 * that changes while mapped is mapped again and then recorded as unstable,
 * and an aborted scan is `interrupted`. Raw images only (no qemu needed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScanEvent } from '../../../src/app/scan-events.js';
import { type ScanOptions, runScan } from '../../../src/app/scan-run.js';
import { DEFAULT_CONFIG, type ScanConfig, mergeConfig } from '../../../src/config/config.js';
import { type ChainHandle, type ChainOpener, openImageChain } from '../../../src/crawl/map-chain.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-scan-run-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function tree(name: string, count: number): string {
  const root = path.join(dir, name);
  fs.mkdirSync(root, { recursive: true });
  for (let i = 0; i < count; i++) {
    const file = path.join(root, `disk-${i}.img`);
    fs.writeFileSync(file, Buffer.alloc(8192, i + 1));
    fs.truncateSync(file, 1 << 20);
  }
  fs.writeFileSync(path.join(root, 'readme.txt.img.bak'), 'x');
  return root;
}

function config(root: string, over: Partial<ScanConfig> = {}): ScanConfig {
  return mergeConfig(DEFAULT_CONFIG, { roots: [root], database: path.join(root, '..', `${path.basename(root)}.db`), ...over });
}

/** An opener that counts opens per file and can run `during` in the middle of each map. */
function countingOpener(during?: (file: string, attempt: number) => void): { open: ChainOpener; opens: Map<string, number> } {
  const opens = new Map<string, number>();
  const open: ChainOpener = (file, options) => {
    const attempt = (opens.get(file) ?? 0) + 1;
    opens.set(file, attempt);
    const chain = openImageChain(file, options);
    const handle: ChainHandle = {
      layers: chain.layers,
      virtualSizeBytes: chain.virtualSizeBytes,
      *entriesSync() {
        for (const entry of chain.entriesSync()) {
          during?.(file, attempt);
          yield entry;
        }
      },
      close: () => chain.close(),
    };
    return handle;
  };
  return { open, opens };
}

const scan = (options: Partial<ScanOptions> & { config: ScanConfig }) =>
  runScan({ isFull: false, signal: new AbortController().signal, ...options });

describe('runScan', () => {
  it('re-reads only what changed; isFull re-reads everything', async () => {
    const root = tree('incremental', 3);
    const cfg = config(root);
    const first = countingOpener();
    const summary = await scan({ config: cfg, open: first.open });
    expect(summary).toMatchObject({ status: 'complete', images: 3, newImages: 3, read: 3, errors: 0, exitStatus: 0 });
    expect([...first.opens.values()]).toEqual([1, 1, 1]);

    const second = countingOpener();
    expect(await scan({ config: cfg, open: second.open })).toMatchObject({ images: 3, newImages: 0, changedImages: 0, read: 0 });
    expect(second.opens.size).toBe(0);

    fs.appendFileSync(path.join(root, 'disk-1.img'), Buffer.alloc(512, 9));
    const third = countingOpener();
    expect(await scan({ config: cfg, open: third.open })).toMatchObject({ images: 3, changedImages: 1, read: 1 });
    expect([...third.opens.keys()]).toEqual([path.join(root, 'disk-1.img')]);

    const full = countingOpener();
    expect(await scan({ config: cfg, open: full.open, isFull: true })).toMatchObject({ images: 3, changedImages: 0, read: 3 });
    expect(full.opens.size).toBe(3);
  });

  it('maps an image that changes while mapped again, then records it as unstable', async () => {
    const root = tree('unstable', 2);
    const touch = (file: string) => fs.utimesSync(file, new Date(), new Date(Date.now() + Math.random() * 1e6));
    const always = countingOpener((file) => { if (file.endsWith('disk-0.img')) touch(file); });
    const events: ScanEvent[] = [];
    const summary = await scan({ config: config(root, { changeRetries: 2 }), open: always.open, onEvent: (e) => events.push(e) });
    expect(always.opens.get(path.join(root, 'disk-0.img'))).toBe(3);
    expect(always.opens.get(path.join(root, 'disk-1.img'))).toBe(1);
    expect(summary).toMatchObject({ images: 2, errors: 0, exitStatus: 0, findings: { error: 0, warning: 1, info: 0 } });
    expect(events).toContainEqual({ kind: 'finding', path: path.join(root, 'disk-0.img'),
      finding: expect.objectContaining({ code: 'E_IMAGE_CHANGED', severity: 'warning' }) });
    expect((await scan({ config: config(root, { check: { failOn: 'warning', deepChainLayers: 8 } }), open: always.open })).exitStatus).toBe(1);

    const once = countingOpener((file, attempt) => { if (attempt === 1) touch(file); });
    const calm = await scan({ config: config(root), open: once.open, isFull: true });
    expect([...once.opens.values()]).toEqual([2, 2]);
    expect(calm.findings.warning).toBe(0);
    const db = new Database(config(root).database, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM maps WHERE hash IS NULL').pluck().get()).toBe(0);
    db.close();
  });

  it('stops dispatching when aborted and marks the run interrupted', async () => {
    const root = tree('aborted', 20);
    const controller = new AbortController();
    const summary = await runScan({
      config: config(root, { concurrency: 1 }), isFull: false, signal: controller.signal,
      onEvent: (event) => { if (event.kind === 'progress' && event.progress.images >= 2) controller.abort(); },
    });
    expect(summary.status).toBe('interrupted');
    expect(summary.images).toBeGreaterThanOrEqual(2);
    expect(summary.images).toBeLessThan(20);
    const next = await scan({ config: config(root) });
    expect(next).toMatchObject({ status: 'complete', images: 20 });
  });
});
