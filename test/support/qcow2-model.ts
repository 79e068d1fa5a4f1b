/**
 * The map qemu-img 7.2 prints for a single-layer image built by
 * qcow2-builder.ts, derived from the builder's declared layout and the rules
 * of research/qemu-map-semantics.md (§1.2 JSON, §1.4 merging, §3.2.4 type →
 * flags, §3.2.7 metadata preallocation) — independent of the engine's code.
 */
import fs from 'node:fs';
import type { BuiltQcow2 } from './qcow2-builder.js';

export interface ModelEntry {
  start: number;
  length: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
}

/** qcow2_detect_metadata_preallocation on the built file (st_blocks vs refcounted clusters). */
export function looksPreallocated(built: BuiltQcow2): boolean {
  const realClusters = Math.floor((fs.statSync(built.path).blocks * 512) / built.clusterSize);
  const threshold = Math.max(Math.floor((realClusters * 10) / 9), realClusters + 2);
  return built.usedClusters >= threshold;
}

/** Merges `next` into the last entry when qemu-img's entry_mergeable() holds. */
export function pushMerged(out: ModelEntry[], next: ModelEntry): void {
  const curr = out[out.length - 1];
  const mergeable = curr !== undefined && curr.length > 0 &&
    curr.present === next.present && curr.zero === next.zero && curr.data === next.data &&
    curr.depth === next.depth && (curr.offset === undefined) === (next.offset === undefined) &&
    (curr.offset === undefined || curr.offset + curr.length === next.offset);
  if (mergeable) curr.length += next.length;
  else out.push({ ...next });
}

/**
 * Expected `qemu-img map --output=json` entries of a built image without
 * backing file. Data clusters written with `fill: null` are holes: they read
 * `zero:true data:true` when the image looks metadata-preallocated.
 */
export function declaredMap(built: BuiltQcow2): ModelEntry[] {
  const cs = built.clusterSize;
  const size = Math.floor(built.virtualSize / 512) * 512;
  const preallocated = looksPreallocated(built);
  const out: ModelEntry[] = [];
  let pos = 0;
  const unallocatedUpTo = (end: number) => {
    if (end > pos) pushMerged(out, { start: pos, length: end - pos, depth: 0, present: false, zero: true, data: false });
    pos = Math.max(pos, end);
  };
  for (const c of built.clusters) {
    if (c.guest >= size) continue;
    unallocatedUpTo(c.guest);
    const length = Math.min(cs, size - c.guest);
    const base = { start: c.guest, length, depth: 0, present: true };
    if (c.kind === 'zero') pushMerged(out, { ...base, zero: true, data: false });
    else if (c.kind === 'zero-alloc') pushMerged(out, { ...base, zero: true, data: false, offset: c.host! });
    else pushMerged(out, { ...base, zero: preallocated && c.fill === null, data: true, offset: c.host! });
    pos = c.guest + length;
  }
  unallocatedUpTo(size);
  if (out.length === 0) out.push({ start: 0, length: 0, depth: 0, present: false, zero: false, data: false });
  return out;
}

/** qemu-img's JSON text for entries (`[` … `,\n` … `]\n`). */
export function toQemuJson(entries: readonly ModelEntry[]): string {
  const body = entries.map((e) =>
    `{ "start": ${e.start}, "length": ${e.length}, "depth": ${e.depth}, "present": ${e.present}, ` +
    `"zero": ${e.zero}, "data": ${e.data}${e.offset === undefined ? '' : `, "offset": ${e.offset}`}}`);
  return `[${body.join(',\n')}]\n`;
}

/** Parses qemu-img's JSON map into entries (numbers must stay below 2^53). */
export function parseQemuJson(text: string): ModelEntry[] {
  return (JSON.parse(text) as ModelEntry[]).map((e) => ({ ...e }));
}
