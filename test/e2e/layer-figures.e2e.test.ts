/**
 * The post-scan pass end to end (issue 6): on a generated estate, every
 * stored per-layer figure (own, true, visible, shadowed allocation; base
 * sharing; snapshots; file systems; references) equals an independent
 * computation from real qemu-img output, filefrag and df; an unchanged
 * re-scan computes and stores nothing new; prune keeps the database
 * consistent, keeping the maps own allocations reference.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV, hasQemu, io, op, runOk } from '../support/qemu.js';
import {
  type Bytes, type LayerEstate, type QemuEntry, buildLayerEstate, bytesOf, category, normalise, ownRanges,
  mappedByFilefrag, qemuAloneMap, qemuChain, qemuChainMap, readAt, sharing, shadowedBytes, total, trueBytes, unwrittenByFilefrag,
} from './layer-estate.js';
import { readDb, requireBuild, runCli } from './scan-support.js';
import { qemuCheck, refcountedClusters } from '../layers/reclaim-oracle.js';

interface LayerFigureRow {
  path: string; depth: number; layer_path: string; layer_format: string;
  own_data_bytes: number; own_zero_bytes: number; own_preallocated_bytes: number;
  true_data_bytes: number | null; true_zero_bytes: number | null; true_preallocated_bytes: number | null;
  visible_data_bytes: number; visible_zero_bytes: number; visible_preallocated_bytes: number;
  shadowed_data_bytes: number; shadowed_zero_bytes: number; shadowed_preallocated_bytes: number;
}

/** Rows of the tables the pass writes, and of those it may add maps to. */
const COUNTED = ['maps', 'map_entries', 'files', 'chains', 'chain_layers', 'file_allocations', 'file_snapshots', 'base_sharings',
  'base_sharing_overlays'] as const;

describe.skipIf(!hasQemu)('per-layer figures (e2e)', () => {
  let estate: LayerEstate;
  let dbFile: string;
  let configFile: string;
  const abs = (relative: string) => path.join(estate.root, relative);
  const scan = (config = configFile) => runCli(['scan', '--config', config, '--db', dbFile], estate.dir);
  const query = <T>(sql: string, ...args: unknown[]) => readDb(dbFile, (db) => db.prepare(sql).all(...args) as T[]);
  const counts = () => readDb(dbFile, (db) => Object.fromEntries(COUNTED.map((t) => [t, db.prepare(`SELECT count(*) FROM ${t}`).pluck().get()])));

  // qemu-img's answers, once per file.
  const aloneMaps = new Map<string, QemuEntry[]>();
  const alone = (file: string, format: string) => {
    if (!aloneMaps.has(file)) aloneMaps.set(file, qemuAloneMap(file, format));
    return aloneMaps.get(file)!;
  };

  /** Capacity, free and available bytes of the root's file system, as df and stat -f print them. */
  const diskFree = () => {
    const [capacity, available] = execFileSync('df', ['-B1', '--output=size,avail', estate.root], { env: TEST_ENV, encoding: 'utf8' })
      .trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
    const [blockSize, freeBlocks] = execFileSync('stat', ['-f', '-c', '%S %f', estate.root], { encoding: 'utf8' }).trim().split(' ').map(Number);
    return { capacity: capacity!, available: available!, free: blockSize! * freeBlocks! };
  };

  beforeAll(() => {
    requireBuild();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-layers-e2e-'));
    estate = buildLayerEstate(dir);
    dbFile = path.join(dir, 'audit.db');
    configFile = path.join(dir, 'imgaudit.json');
    fs.writeFileSync(configFile, JSON.stringify({
      roots: [estate.root], followBackingOutsideRoots: true,
      references: { libvirtDomainDirs: [estate.domains, path.join(dir, 'no-such-dir')], pathLists: [estate.pathList] },
    }));
  }, 120_000);
  afterAll(() => fs.rmSync(estate.dir, { recursive: true, force: true }));

  it('first scan: own, true, visible and shadowed bytes of every layer equal qemu-img, filefrag and interval arithmetic', () => {
    const result = scan();
    expect(result.status, result.stderr).toBe(0);
    const rows = query<LayerFigureRow>('SELECT * FROM run_layer_figures WHERE run_id = 1 ORDER BY path, depth');
    let compared = 0;
    for (const image of estate.images) {
      const top = abs(image);
      const chain = qemuChain(top);
      const chainMap = qemuChainMap(top);
      const mine = rows.filter((r) => r.path === top);
      expect(mine.map((r) => [r.depth, r.layer_path, r.layer_format]), image)
        .toEqual(chain.map((layer, depth) => [depth, layer.filename, layer.format]));
      chain.forEach((layer, depth) => {
        const row = mine[depth]!;
        const isRaw = layer.format === 'raw';
        const aloneMap = alone(layer.filename, layer.format);
        const own = ownRanges(aloneMap, isRaw);
        const visible: Bytes = { data: 0, zero: 0, preallocated: 0 };
        for (const e of chainMap) {
          const c = e.depth === depth ? category(e, isRaw) : 'unallocated';
          if (c !== 'unallocated') visible[c] += e.length;
        }
        const truly = estate.readingOtherFiles.includes(layer.filename)
          ? { data: null, zero: null, preallocated: null } : trueBytes(aloneMap, isRaw, unwrittenByFilefrag(layer.filename), mappedByFilefrag(layer.filename));
        const shadowed = shadowedBytes(own, chainMap, depth, chain[0]!.virtualSize);
        const what = `${image} depth ${depth}`;
        expect({
          own: { data: row.own_data_bytes, zero: row.own_zero_bytes, preallocated: row.own_preallocated_bytes },
          true: { data: row.true_data_bytes, zero: row.true_zero_bytes, preallocated: row.true_preallocated_bytes },
          visible: { data: row.visible_data_bytes, zero: row.visible_zero_bytes, preallocated: row.visible_preallocated_bytes },
          shadowed: { data: row.shadowed_data_bytes, zero: row.shadowed_zero_bytes, preallocated: row.shadowed_preallocated_bytes },
        }, what).toEqual({ own: bytesOf(own), true: truly, visible, shadowed });
        compared++;
      });
    }
    expect(compared).toBe(rows.length);
    // The estate exercises what the figures are about.
    const at = (image: string, depth: number) => rows.find((r) => r.path === abs(image) && r.depth === depth)!;
    expect(at('ov3.qcow2', 1).shadowed_data_bytes).toBeGreaterThan(0);
    expect(at('deep/d0.qcow2', 2).shadowed_data_bytes).toBe(8 << 20); // d0 hides 0-6M, d1 4-8M
    expect(at('deep/d0.qcow2', 1).shadowed_data_bytes).toBe(2 << 20);
    expect(at('clipov.qcow2', 1).shadowed_data_bytes).toBe(1 << 20); // beyond the top's 8 MiB: not shadowed
    expect(at('falloc.raw', 0)).toMatchObject({ own_zero_bytes: 7 << 20, true_zero_bytes: 0, true_preallocated_bytes: 7 << 20 });
    expect(at('falloc.qcow2', 0).true_preallocated_bytes).toBeGreaterThanOrEqual(7 << 20);
    // preallocation=metadata: SPEC §3 preallocated, but over host holes: no space held.
    expect(at('meta.qcow2', 0).own_preallocated_bytes).toBe(7 << 20);
    expect([at('meta.qcow2', 0).true_zero_bytes, at('meta.qcow2', 0).true_preallocated_bytes]).toEqual([7 << 20, 0]);
  });

  it('stores unwritten bytes per file, own allocations of files only seen as backing files, and chain figures for every chain', () => {
    const files = query<{ path: string; unwritten_bytes: number | null; map_id: number; is_chain_map: number }>(`
      SELECT f.path, fa.unwritten_bytes, fa.map_id,
             EXISTS (SELECT 1 FROM chains c WHERE c.map_id = fa.map_id) AS is_chain_map
      FROM file_allocations fa JOIN files f ON f.id = fa.file_id ORDER BY f.path`);
    const outsideBase = path.join(estate.outside, 'obase.qcow2');
    expect(files.map((f) => f.path).sort()).toEqual([...estate.images.map(abs), outsideBase].sort());
    for (const f of files) {
      expect(f.unwritten_bytes, f.path).toBe(total(unwrittenByFilefrag(f.path)));
      // Tops reference their chain map; the base outside the roots has a map of its own, mapped alone.
      expect(f.is_chain_map, f.path).toBe(f.path === outsideBase ? 0 : 1);
    }
    expect(files.find((f) => f.path === abs('falloc.raw'))!.unwritten_bytes).toBe(7 << 20);
    const aloneMap = query<{ start_bytes: number; length_bytes: number; flags: number }>(`
      SELECT start_bytes, length_bytes, flags FROM map_entries WHERE map_id = ? ORDER BY start_bytes`,
    files.find((f) => f.path === outsideBase)!.map_id);
    expect(aloneMap.map((e) => [e.start_bytes, e.length_bytes, (e.flags & 1) === 1]))
      .toEqual(alone(outsideBase, 'qcow2').map((e) => [e.start, e.length, e.present]));
    const chains = query<{ path: string; has_layer_figures: number; commit_growth_bytes: number | null; layer_count: number }>(`
      SELECT i.path, c.has_layer_figures, c.commit_growth_bytes, c.layer_count FROM run_images ri
      JOIN images i ON i.id = ri.image_id JOIN chains c ON c.id = ri.chain_id WHERE ri.run_id = 1`);
    expect(chains).toHaveLength(estate.images.length);
    for (const c of chains) {
      expect(c.has_layer_figures, c.path).toBe(1);
      if (c.layer_count === 1) expect(c.commit_growth_bytes, c.path).toBeNull();
    }
  });

  it('commit growth: what a real `qemu-img commit` of the top adds to its backing file, on copies of the estate', () => {
    interface CommitRow {
      path: string; commit_growth_bytes: number | null; commit_growth_min_bytes: number | null; commit_growth_max_bytes: number | null;
      commit_data_growth_bytes: number | null; commit_end_growth_min_bytes: number | null; commit_end_growth_max_bytes: number | null;
    }
    const chains = query<CommitRow>(`
      SELECT i.path, c.commit_growth_bytes, c.commit_growth_min_bytes, c.commit_growth_max_bytes, c.commit_data_growth_bytes,
             c.commit_end_growth_min_bytes, c.commit_end_growth_max_bytes
      FROM run_images ri JOIN images i ON i.id = ri.image_id
      JOIN chains c ON c.id = ri.chain_id WHERE ri.run_id = 1 AND c.layer_count > 1 ORDER BY i.path`);
    expect(chains.map((c) => path.relative(estate.root, c.path))).toEqual(
      ['clipov.qcow2', 'deep/d0.qcow2', 'deep/d1.qcow2', 'outov.qcow2', 'ov1.qcow2', 'ov2.qcow2', 'ov3.qcow2', 'rawov.qcow2']);
    // Host-backed bytes of a raw file: its data blocks. A qcow2 file: its refcounted clusters (data and metadata)
    // and qemu-img check's data clusters and image end offset.
    const hostBacked = (file: string) => qemuAloneMap(file, 'raw').filter((e) => e.data).reduce((sum, e) => sum + e.length, 0);
    const qcow2Host = (file: string) => {
      const check = qemuCheck(path.dirname(file), path.basename(file));
      const clusterBytes = 2 ** fs.readFileSync(file).readUInt32BE(20);
      return { refcounted: refcountedClusters(path.dirname(file), path.basename(file)) * clusterBytes,
        data: check.allocatedClusters * clusterBytes, end: check.imageEndOffset };
    };
    for (const row of chains) {
      const top = row.path;
      expect(row.commit_growth_min_bytes, top).not.toBeNull();
      expect(row.commit_growth_bytes, top).toBe(row.commit_growth_min_bytes === row.commit_growth_max_bytes ? row.commit_growth_min_bytes : null);
      const copy = fs.mkdtempSync(path.join(estate.dir, 'commit-'));
      execFileSync('cp', ['-a', '--sparse=auto', estate.root, estate.outside, copy]);
      const topCopy = path.join(copy, 'images', path.relative(estate.root, top));
      const [, backing] = qemuChain(topCopy);
      const isRaw = backing!.format === 'raw';
      const before = isRaw ? { refcounted: hostBacked(backing!.filename), data: hostBacked(backing!.filename), end: 0 } : qcow2Host(backing!.filename);
      runOk(['qemu-img', 'commit', '-q', topCopy], copy);
      const after = isRaw ? { refcounted: hostBacked(backing!.filename), data: hostBacked(backing!.filename), end: 0 } : qcow2Host(backing!.filename);
      const growth = after.refcounted - before.refcounted;
      expect(growth, top).toBeGreaterThanOrEqual(row.commit_growth_min_bytes!);
      expect(growth, top).toBeLessThanOrEqual(row.commit_growth_max_bytes!);
      expect(row.commit_data_growth_bytes, top).toBe(after.data - before.data);
      if (isRaw) {
        expect([row.commit_end_growth_min_bytes, row.commit_end_growth_max_bytes], top).toEqual([null, null]);
      } else {
        expect(after.end - before.end, top).toBeGreaterThanOrEqual(row.commit_end_growth_min_bytes!);
        expect(after.end - before.end, top).toBeLessThanOrEqual(row.commit_end_growth_max_bytes!);
      }
      fs.rmSync(copy, { recursive: true, force: true });
    }
    // ov2 writes 2 MiB where its base holds nothing (under an L2 table it has); d1 1 MiB beyond what d2 holds; ov1 only over the base's data.
    const growth = (image: string) => chains.find((c) => c.path === abs(image))!.commit_growth_bytes;
    expect([growth('ov2.qcow2'), growth('deep/d1.qcow2'), growth('ov1.qcow2')]).toEqual([2 << 20, 1 << 20, 0]);
  });

  it('base sharing: per base read directly by the run\'s overlays, what they read together, share, leave unread and read alone', () => {
    const stored = query<{ id: number; base: string; overlay_count: number; read_bytes: number; shared_bytes: number; unread_bytes: number }>(`
      SELECT bs.id, f.path AS base, bs.overlay_count, bs.read_bytes, bs.shared_bytes, bs.unread_bytes
      FROM run_base_sharings r JOIN base_sharings bs ON bs.id = r.sharing_id JOIN files f ON f.id = bs.file_id
      WHERE r.run_id = 1 ORDER BY f.path`);
    // Expected: group the images by the file at depth 1 of their chain.
    const byBase = new Map<string, string[]>();
    for (const image of estate.images) {
      const chain = qemuChain(abs(image));
      if (chain.length > 1) byBase.set(chain[1]!.filename, [...(byBase.get(chain[1]!.filename) ?? []), abs(image)]);
    }
    expect(stored.map((s) => s.base)).toEqual([...byBase.keys()].sort());
    expect(stored.find((s) => s.base === abs('base.qcow2'))!.overlay_count).toBe(3);
    for (const s of stored) {
      const overlays = query<{ top: string; read_bytes: number; unique_bytes: number }>(`
        SELECT f.path AS top, o.read_bytes, o.unique_bytes FROM base_sharing_overlays o
        JOIN chains c ON c.id = o.chain_id JOIN files f ON f.id = c.top_file_id WHERE o.sharing_id = ? ORDER BY f.path`, s.id);
      const tops = byBase.get(s.base)!.sort();
      expect(overlays.map((o) => o.top), s.base).toEqual(tops);
      const baseChain = qemuChain(tops[0]!);
      const own = ownRanges(alone(s.base, baseChain[1]!.format), baseChain[1]!.format === 'raw');
      const expected = sharing(normalise([...own.data, ...own.zero, ...own.preallocated]), tops.map((t) => readAt(qemuChainMap(t), 1)));
      expect({
        overlayCount: s.overlay_count, read: s.read_bytes, shared: s.shared_bytes, unread: s.unread_bytes,
        overlays: overlays.map((o) => ({ read: o.read_bytes, unique: o.unique_bytes })),
      }, s.base).toEqual({ overlayCount: tops.length, read: expected.read, shared: expected.shared, unread: expected.unread, overlays: expected.overlays });
    }
    expect(stored.find((s) => s.base === abs('base.qcow2'))!.shared_bytes).toBeGreaterThan(0);
  });

  it('snapshots, file systems and references', () => {
    const info = JSON.parse(runOk(['qemu-img', 'info', '-U', '--output=json', abs('snap.qcow2')], estate.dir)) as
      { snapshots: { id: string; name: string; 'date-sec': number; 'date-nsec': number; 'vm-state-size': number }[] };
    const snapshots = query<Record<string, unknown>>(`
      SELECT s.seq, s.snapshot_id, s.name, s.created_at, s.vm_state_bytes FROM file_snapshots s
      JOIN files f ON f.id = s.file_id WHERE f.path = ? ORDER BY s.seq`, abs('snap.qcow2'));
    expect(snapshots).toEqual(info.snapshots.map((s, seq) => ({
      seq, snapshot_id: s.id, name: s.name, vm_state_bytes: s['vm-state-size'],
      created_at: new Date(s['date-sec'] * 1000 + Math.floor(s['date-nsec'] / 1e6)).toISOString(),
    })));
    expect(snapshots.map((s) => s.name)).toEqual(['first', 'second one']);
    expect(query('SELECT count(*) AS n FROM file_snapshots')).toEqual([{ n: 2 }]);

    const [fsRow] = query<{ root: string; dev: number; capacity_bytes: number; free_bytes: number; available_bytes: number }>(`
      SELECT r.path AS root, fs.dev, fs.capacity_bytes, fs.free_bytes, fs.available_bytes FROM run_filesystems fs
      JOIN roots r ON r.id = fs.root_id WHERE fs.run_id = 1`);
    expect(fsRow).toMatchObject({ root: estate.root, dev: fs.statSync(estate.root).dev, capacity_bytes: diskFree().capacity });

    const references = query<{ path: string; source: string }>('SELECT path, source FROM run_references WHERE run_id = 1 ORDER BY source, path');
    const web = path.join(estate.domains, 'web.xml');
    const db = path.join(estate.domains, 'db.xml');
    expect(references).toEqual([
      { path: abs('deep/d0.qcow2'), source: db },
      { path: '/dev/vg0/web-data', source: web },
      { path: abs('base.qcow2'), source: web },
      { path: abs('ov1.qcow2'), source: web },
      { path: abs('rawov.qcow2'), source: estate.pathList },
      { path: abs('snap.qcow2'), source: estate.pathList },
    ].sort((a, b) => (a.source === b.source ? (a.path < b.path ? -1 : 1) : a.source < b.source ? -1 : 1)));
    expect(query('SELECT path, code, severity FROM run_findings WHERE run_id = 1')).toEqual([
      { path: path.join(estate.dir, 'no-such-dir'), code: 'E_REFERENCE_UNREADABLE', severity: 'warning' },
    ]);
  });

  it('an unchanged re-scan computes nothing new: it links the same sharings and adds only run rows', () => {
    const before = counts();
    const freeBefore = diskFree();
    const result = scan();
    const freeAfter = diskFree();
    expect(result.status, result.stderr).toBe(0);
    expect(counts()).toEqual(before);
    // The file system as statfs saw it at the end of the scan: between what df saw before and after it
    // (other writers on this machine move free space meanwhile; 16 MiB of slack for the database's own writes).
    const [stored] = query<{ free_bytes: number; available_bytes: number }>('SELECT free_bytes, available_bytes FROM run_filesystems WHERE run_id = 2');
    for (const key of ['free', 'available'] as const) {
      const low = Math.min(freeBefore[key], freeAfter[key]) - (16 << 20);
      const high = Math.max(freeBefore[key], freeAfter[key]) + (16 << 20);
      expect(stored![`${key}_bytes`], key).toBeGreaterThanOrEqual(low);
      expect(stored![`${key}_bytes`], key).toBeLessThanOrEqual(high);
    }
    const sharings = (run: number) => query<{ sharing_id: number }>('SELECT sharing_id FROM run_base_sharings WHERE run_id = ? ORDER BY sharing_id', run);
    expect(sharings(2)).toEqual(sharings(1));
    expect(query('SELECT count(*) AS n FROM run_filesystems WHERE run_id = 2')).toEqual([{ n: 1 }]);
    expect(query('SELECT count(*) AS n FROM run_references WHERE run_id = 2')).toEqual(query('SELECT count(*) AS n FROM run_references WHERE run_id = 1'));
    const figures = (run: number) => query<Record<string, unknown>>(
      'SELECT * FROM run_layer_figures WHERE run_id = ? ORDER BY path, depth', run).map(({ run_id: _, ...rest }) => rest);
    expect(figures(2)).toEqual(figures(1));
  });

  it('prune keeps the maps own allocations reference and drops what no run uses; foreign keys hold', () => {
    // Run 3: ov1 changes, and base.qcow2 is no longer audited as a top (it stays ov2's and ov3's backing file):
    // its own allocation still references the chain map of run 1's base.qcow2 chain.
    runOk(io('ov1.qcow2', 'qcow2', [op.write(4 << 20, 1 << 20, 0x5a)]), estate.root);
    const excluding = path.join(estate.dir, 'excluding.json');
    fs.writeFileSync(excluding, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), exclude: ['base.qcow2'] }));
    const result = scan(excluding);
    expect(result.status, result.stderr).toBe(0);
    const baseMap = query<{ map_id: number }>(
      'SELECT fa.map_id FROM file_allocations fa JOIN files f ON f.id = fa.file_id WHERE f.path = ?', abs('base.qcow2'))[0]!.map_id;
    const run3 = query('SELECT * FROM run_layer_figures WHERE run_id = 3 ORDER BY path, depth');
    const run3Sharings = query('SELECT bs.* FROM run_base_sharings r JOIN base_sharings bs ON bs.id = r.sharing_id WHERE r.run_id = 3 ORDER BY bs.id');
    expect(run3.length).toBeGreaterThan(0);

    const pruned = runCli(['prune', '--keep', '1', '--db', dbFile], estate.dir);
    expect(pruned.status, pruned.stderr).toBe(0);
    readDb(dbFile, (db) => {
      expect(db.pragma('foreign_key_check')).toEqual([]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const n = (sql: string) => db.prepare(sql).pluck().get() as number;
      expect(n('SELECT count(*) FROM runs')).toBe(1);
      // The base's own allocation outlived the chain whose map it references.
      expect(n(`SELECT count(*) FROM chains WHERE map_id = ${baseMap}`)).toBe(0);
      expect(n(`SELECT count(*) FROM maps WHERE id = ${baseMap}`)).toBe(1);
      // Nothing is left that no run uses.
      expect(n(`SELECT count(*) FROM maps WHERE id NOT IN (SELECT map_id FROM chains WHERE map_id IS NOT NULL)
        AND id NOT IN (SELECT map_id FROM file_allocations)`)).toBe(0);
      expect(n('SELECT count(*) FROM base_sharings WHERE id NOT IN (SELECT sharing_id FROM run_base_sharings)')).toBe(0);
      expect(n(`SELECT count(*) FROM files WHERE id NOT IN (SELECT top_file_id FROM chains)
        AND id NOT IN (SELECT file_id FROM chain_layers) AND id NOT IN (SELECT file_id FROM chain_extra_files)`)).toBe(0);
      expect(n('SELECT count(*) FROM file_allocations WHERE file_id NOT IN (SELECT file_id FROM chain_layers)')).toBe(0);
      expect(db.prepare('SELECT count(*) FROM files WHERE path = ?').pluck().get(abs('ov1.qcow2'))).toBe(1);
      expect(db.prepare('SELECT * FROM run_layer_figures WHERE run_id = 3 ORDER BY path, depth').all()).toEqual(run3);
      expect(db.prepare('SELECT bs.* FROM run_base_sharings r JOIN base_sharings bs ON bs.id = r.sharing_id WHERE r.run_id = 3 ORDER BY bs.id').all())
        .toEqual(run3Sharings);
    });
    // And the pruned database goes on: an unchanged re-scan still computes nothing.
    const before = counts();
    expect(scan(excluding).status).toBe(0);
    expect(counts()).toEqual(before);
  });
});

