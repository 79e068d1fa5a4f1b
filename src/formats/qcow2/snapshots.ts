/**
 * The qcow2 internal snapshot table (docs/interop/qcow2.txt, "Snapshots"),
 * read the way QEMU 7.2's qcow2_read_snapshots walks it: each entry is a
 * 40-byte header, extra data, the ID string and the name, the next entry
 * starting at the following multiple of 8. Reads past the end of the file
 * see zeroes, as QEMU's do. The table's count and offset were validated with
 * the header (readQcow2Header); here every entry's sizes are bounded by
 * QEMU's limits and the table's total size.
 */
import type { HostFile } from '../../io/host-file.js';
import type { LayerSnapshot } from '../types.js';
import { imageName } from '../common/names.js';
import * as S from './spec.js';

/** Entry header field offsets (bytes, big-endian). */
const SN = {
  l1TableOffset: 0, l1Size: 8, idStrSize: 12, nameSize: 14, dateSec: 16, dateNsec: 20,
  vmClockNsec: 24, vmStateSize: 32, extraDataSize: 36,
} as const;
/** Extra data starts with vm_state_size_large (u64); disk_size and icount follow. */
const EXTRA_VM_STATE_LARGE_END = 8;

/** What the walk found: the snapshots, and why it stopped early (QEMU would refuse the image), if it did. */
export interface SnapshotTable {
  snapshots: LayerSnapshot[];
  /** QEMU's refusal text when the table breaks one of its limits; the entries before it are listed. */
  invalid: string | null;
}

/**
 * Reads `count` snapshot entries from `tableOffsetBytes`. Never throws for a
 * table QEMU would refuse (imgaudit maps such images, a known disagreement):
 * it stops and says why in `invalid`. Throws ReadError on I/O errors.
 */
export function readSnapshotTable(file: HostFile, tableOffsetBytes: number, count: number): SnapshotTable {
  const snapshots: LayerSnapshot[] = [];
  let offset = tableOffsetBytes;
  for (let i = 0; i < count; i++) {
    offset = Math.ceil(offset / 8) * 8;
    const head = file.readAt(offset, S.SNAPSHOT_HEADER_BYTES);
    offset += S.SNAPSHOT_HEADER_BYTES;
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const extraBytes = view.getUint32(SN.extraDataSize);
    if (extraBytes > S.MAX_SNAPSHOT_EXTRA_BYTES) {
      return { snapshots, invalid: `Too much extra metadata in snapshot table entry ${i}` };
    }
    let vmStateBytes = BigInt(view.getUint32(SN.vmStateSize));
    if (extraBytes >= EXTRA_VM_STATE_LARGE_END) {
      const extra = file.readAt(offset, EXTRA_VM_STATE_LARGE_END);
      vmStateBytes = new DataView(extra.buffer, extra.byteOffset, extra.byteLength).getBigUint64(0);
    }
    offset += extraBytes;
    const idBytes = view.getUint16(SN.idStrSize);
    const nameBytes = view.getUint16(SN.nameSize);
    const id = imageName(file.readAt(offset, idBytes));
    offset += idBytes;
    const name = imageName(file.readAt(offset, nameBytes));
    offset += nameBytes;
    if (offset - tableOffsetBytes > S.MAX_SNAPSHOT_TABLE_BYTES) {
      return { snapshots, invalid: 'Snapshot table is too big' };
    }
    const createdAtMs = view.getUint32(SN.dateSec) * 1000 + Math.floor(view.getUint32(SN.dateNsec) / 1e6);
    snapshots.push({ id, name, createdAtMs, vmStateBytes: Number(vmStateBytes) });
  }
  return { snapshots, invalid: null };
}
