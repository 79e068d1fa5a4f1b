/**
 * Does the VHDX log hold entries that must be replayed? QEMU 7.2 answers
 * this on every open (vhdx_parse_log), and a read-only open — qemu-img map's
 * — fails when it finds an active sequence, with a hint to run
 * `qemu-img check -r all`. The search is reproduced step by step, because
 * where it looks decides what it finds: from log offset 0, a 4 KiB sector at
 * a time, an entry counts when its header is valid (signature, length, a
 * non-zero sequence number, the active header's log GUID) and the CRC-32C
 * over all its sectors matches; a valid header whose descriptors are invalid
 * makes the open fail (EINVAL); the scan stops once it wraps around.
 */
import type { HostFile } from '../../io/host-file.js';
import { crc32c } from './crc32c.js';
import * as S from './spec.js';

export interface LogArea {
  offsetBytes: bigint;
  lengthBytes: number;
  /** The active header's log GUID (16 bytes). */
  guid: Buffer;
}

export type LogSearch = 'clean' | 'replay-needed' | 'invalid';

/** Reads one log sector (zeroes past the end of the file or beyond 2^53). */
function sector(file: HostFile, log: LogArea, index: number): Buffer {
  const at = log.offsetBytes + BigInt(index);
  return at >= BigInt(file.sizeBytes) ? Buffer.alloc(S.LOG_SECTOR) : file.readAt(Number(at), S.LOG_SECTOR);
}

function headerIsValid(h: Buffer, log: LogArea): boolean {
  if (h.readUInt32LE(S.LOG.signature) !== S.LOG_ENTRY_SIGNATURE) return false;
  const entryLength = h.readUInt32LE(S.LOG.entryLength);
  if (log.lengthBytes < entryLength || entryLength % S.LOG_SECTOR !== 0) return false;
  if (h.readBigUInt64LE(S.LOG.sequenceNumber) === 0n) return false;
  if (!h.subarray(S.LOG.logGuid, S.LOG.logGuid + 16).equals(log.guid)) return false;
  return h.readUInt32LE(S.LOG.descriptorCount) * S.LOG_DESCRIPTOR_BYTES <= entryLength;
}

function descriptorIsValid(d: Buffer, sequence: bigint): boolean {
  if (d.readBigUInt64LE(24) !== sequence) return false;
  if (d.readBigUInt64LE(16) % BigInt(S.LOG_SECTOR) !== 0n) return false;
  const signature = d.readUInt32LE(0);
  if (signature === S.LOG_ZERO_SIGNATURE) return d.readBigUInt64LE(8) % BigInt(S.LOG_SECTOR) === 0n;
  return signature === S.LOG_DESC_SIGNATURE;
}

/** The search for a valid log entry (vhdx_log_search until its first find). */
export function searchLog(file: HostFile, log: LogArea): LogSearch {
  const length = log.lengthBytes;
  const next = (index: number) => (index + S.LOG_SECTOR) % length;
  let read = 0;
  for (;;) {
    const tail = read;
    // Past the end of the file every sector reads as zeroes: no entry starts
    // there, and the scan only moves on until it wraps around.
    if (log.offsetBytes + BigInt(read) >= BigInt(file.sizeBytes)) return 'clean';
    const head = sector(file, log, read);
    if (!headerIsValid(head, log)) {
      read = next(read);
    } else {
      const sequence = head.readBigUInt64LE(S.LOG.sequenceNumber);
      const count = head.readUInt32LE(S.LOG.descriptorCount);
      const descSectors = Math.ceil((count + 2) / 128);
      const totalSectors = head.readUInt32LE(S.LOG.entryLength) / S.LOG_SECTOR;
      let crc = 0;
      let descriptor = 0;
      for (let i = 0; i < descSectors; i++) {
        const bytes = sector(file, log, read);
        read = next(read);
        for (let at = i === 0 ? S.LOG_HEADER_BYTES : 0; at < S.LOG_SECTOR && descriptor < count; at += S.LOG_DESCRIPTOR_BYTES, descriptor++) {
          if (!descriptorIsValid(bytes.subarray(at, at + S.LOG_DESCRIPTOR_BYTES), sequence)) return 'invalid';
        }
        if (i === 0) bytes.fill(0, S.LOG.checksum, S.LOG.checksum + 4);
        crc = crc32c(bytes, crc);
      }
      for (let i = descSectors; i < totalSectors; i++) {
        crc = crc32c(sector(file, log, read), crc);
        read = next(read);
      }
      if (crc === head.readUInt32LE(S.LOG.checksum)) return 'replay-needed';
    }
    if (read < tail) return 'clean';
  }
}
