// Sparse-file container for golden fixtures.
//
// git does not keep holes, but qemu-img map output depends on them (raw maps
// come from SEEK_DATA/SEEK_HOLE, qcow2 metadata-preallocation detection uses
// st_blocks). A case directory therefore stores its files as one gzip stream:
//
//   "IMGAUDIT-SPARSE/1\n" <manifest JSON> "\n" <payload>
//
// The manifest lists directories and, per file, its size, its data extents
// (SEEK_DATA/SEEK_HOLE) and its allocated-but-unwritten ranges (fallocate).
// The payload is the bytes of all data extents, concatenated in manifest
// order. (st_blocks is not stored: the original's varies by an extent-tree
// block from run to run; expected.json records the materialized values.)
//
// materializeCase() recreates every file with the same size and the same
// data/hole layout: ftruncate to the size, fallocate the unwritten ranges
// (util-linux `fallocate`, only when a case has any), write each data extent
// at its offset, fsync.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync, gzipSync, constants as zc } from "node:zlib";

export const CONTAINER_NAME = "files.sparse.gz";
const MAGIC = "IMGAUDIT-SPARSE/1\n";

/** [offset, length] in bytes. */
export type Extent = [number, number];

export interface SparseFile {
  path: string; // relative, "/"-separated
  size: number;
  data: Extent[];
  alloc: Extent[];
}

export interface SparseManifest {
  dirs: string[];
  files: SparseFile[];
}

/** Build a container from a scanned tree (used by the generator). */
export function packContainer(root: string, manifest: SparseManifest): Buffer {
  const stored: SparseManifest = {
    dirs: manifest.dirs,
    files: manifest.files.map(({ path, size, data, alloc }) => ({ path, size, data, alloc })),
  };
  const parts: Buffer[] = [Buffer.from(MAGIC + JSON.stringify(stored) + "\n", "utf8")];
  for (const file of manifest.files) {
    const fd = fs.openSync(path.join(root, file.path), "r");
    try {
      for (const [offset, length] of file.data) {
        const buf = Buffer.alloc(length);
        const n = fs.readSync(fd, buf, 0, length, offset);
        if (n !== length) throw new Error(`short read in ${file.path} at ${offset}`);
        parts.push(buf);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return gzipSync(Buffer.concat(parts), { level: zc.Z_BEST_COMPRESSION });
}

/** Parse a container into its manifest and payload. */
export function readContainer(file: string): { manifest: SparseManifest; payload: Buffer } {
  const raw = gunzipSync(fs.readFileSync(file));
  if (raw.subarray(0, MAGIC.length).toString("utf8") !== MAGIC) {
    throw new Error(`${file}: not an imgaudit sparse container`);
  }
  const nl = raw.indexOf(0x0a, MAGIC.length);
  if (nl < 0) throw new Error(`${file}: truncated manifest`);
  const manifest = JSON.parse(raw.subarray(MAGIC.length, nl).toString("utf8")) as SparseManifest;
  return { manifest, payload: raw.subarray(nl + 1) };
}

function fallocate(file: string, [offset, length]: Extent): void {
  const r = spawnSync("fallocate", ["-o", String(offset), "-l", String(length), file], {
    encoding: "utf8",
  });
  if (r.error || r.status !== 0) {
    throw new Error(
      `fallocate -o ${offset} -l ${length} ${file} failed: ` +
        (r.error ? r.error.message : r.stderr.trim()) +
        " (util-linux fallocate is needed for cases with preallocated space)",
    );
  }
}

/**
 * Recreate the files of `caseDir/files.sparse.gz` under `targetDir`
 * (created if needed). Returns the manifest so callers can compare st_blocks.
 */
export function materializeCase(caseDir: string, targetDir: string): SparseManifest {
  const { manifest, payload } = readContainer(path.join(caseDir, CONTAINER_NAME));
  fs.mkdirSync(targetDir, { recursive: true });
  for (const dir of manifest.dirs) fs.mkdirSync(path.join(targetDir, dir), { recursive: true });
  let pos = 0;
  for (const file of manifest.files) {
    const target = path.join(targetDir, file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const fd = fs.openSync(target, "w");
    try {
      fs.ftruncateSync(fd, file.size);
      for (const range of file.alloc) fallocate(target, range);
      for (const [offset, length] of file.data) {
        if (pos + length > payload.length) throw new Error(`payload too short for ${file.path}`);
        let done = 0;
        while (done < length) {
          done += fs.writeSync(fd, payload, pos + done, length - done, offset + done);
        }
        pos += length;
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  if (pos !== payload.length) throw new Error(`${caseDir}: ${payload.length - pos} unused payload bytes`);
  return manifest;
}

/** st_blocks of every materialized file, keyed by relative path. */
export function blocksOf(targetDir: string, manifest: SparseManifest): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of manifest.files) out[f.path] = fs.statSync(path.join(targetDir, f.path)).blocks;
  return out;
}
