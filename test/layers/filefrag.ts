/**
 * An independent reading of a file's extent map: `filefrag -v` (e2fsprogs),
 * parsed into byte ranges with their flags. Tests compare the addon's
 * FIEMAP answer and the per-layer figures with what it prints.
 */
import { spawnSync } from 'node:child_process';

export interface FilefragExtent { offsetBytes: number; lengthBytes: number; flags: string[] }

export const hasFilefrag: boolean = spawnSync('filefrag', ['-V'], { stdio: 'ignore' }).status === 0;

/** Every extent `filefrag -v FILE` lists, in bytes. */
export function filefragExtents(file: string): FilefragExtent[] {
  const r = spawnSync('filefrag', ['-v', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`filefrag -v ${file} failed: ${r.stderr}`);
  const block = /blocks of (\d+) bytes/.exec(r.stdout);
  if (block === null) throw new Error(`filefrag: no block size in:\n${r.stdout}`);
  const blockBytes = Number(block[1]);
  const extents: FilefragExtent[] = [];
  for (const line of r.stdout.split('\n')) {
    // "   3:      128..     335:   14615042..  14615249:    208:   14582656: unwritten"
    const m = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+\d+\.\.\s*\d+:\s+(\d+):(?:\s+\d+:)?\s*(.*)$/.exec(line);
    if (m === null) continue;
    extents.push({
      offsetBytes: Number(m[1]) * blockBytes,
      lengthBytes: Number(m[3]) * blockBytes,
      flags: m[4]!.split(',').map((f) => f.trim()).filter((f) => f !== ''),
    });
  }
  return extents;
}

/** The unwritten extents filefrag lists, merged where they touch. */
export function filefragUnwritten(file: string): { offsetBytes: number; lengthBytes: number }[] {
  const merged: { offsetBytes: number; lengthBytes: number }[] = [];
  for (const e of filefragExtents(file).filter((x) => x.flags.includes('unwritten'))) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.offsetBytes + last.lengthBytes === e.offsetBytes) last.lengthBytes += e.lengthBytes;
    else merged.push({ offsetBytes: e.offsetBytes, lengthBytes: e.lengthBytes });
  }
  return merged;
}

/** Every extent filefrag lists (written or not), merged where they touch: the bytes that hold space. */
export function filefragMapped(file: string): { offsetBytes: number; lengthBytes: number }[] {
  const merged: { offsetBytes: number; lengthBytes: number }[] = [];
  for (const e of filefragExtents(file)) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.offsetBytes + last.lengthBytes === e.offsetBytes) last.lengthBytes += e.lengthBytes;
    else merged.push({ offsetBytes: e.offsetBytes, lengthBytes: e.lengthBytes });
  }
  return merged;
}
