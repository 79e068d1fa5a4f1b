/**
 * Inputs for format probing and raw mapping: files that start with (a mangled
 * version of) some format's magic, or nothing recognisable, with random
 * sizes (0, 1, 511, 513, …) and random data/hole layouts.
 */
import fs from 'node:fs';
import type { Rng } from '../support/prng.js';

const be32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };
const le32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };

/** First bytes of files QEMU probes (plus near misses). */
function header(rng: Rng): { bytes: Buffer; at: number; name: string } {
  const pick = rng.int(0, 13);
  const text = (s: string) => Buffer.from(s, 'latin1');
  switch (pick) {
    case 0: return { bytes: Buffer.concat([be32(0x514649fb), be32(rng.pick([0, 1, 2, 3, 4, 0xffffffff]))]), at: 0, name: 'qcow-magic' };
    case 1: return { bytes: text(rng.pick(['KDMV', 'COWD', 'KDMW'])), at: 0, name: 'vmdk-sparse' };
    case 2: return { bytes: text(rng.pick(['# Disk DescriptorFile\nversion=1\n', '#x\n   \nversion=3\r\n', 'version=4\n', '#\n#\n'])), at: 0, name: 'vmdk-text' };
    case 3: return { bytes: text(rng.pick(['conectix', 'conectiy'])), at: 0, name: 'vpc' };
    case 4: return { bytes: text('vhdxfile'), at: 0, name: 'vhdx' };
    case 5: return { bytes: le32(0x00444551), at: 0, name: 'qed' };
    case 6: return { bytes: le32(0xbeda107f), at: 0x40, name: 'vdi' };
    case 7: return { bytes: Buffer.concat([text(rng.pick(['WithoutFreeSpace', 'WithouFreSpacExt'])), le32(rng.pick([2, 1]))]), at: 0, name: 'parallels' };
    case 8: return { bytes: text('Bochs Virtual HD Image'), at: 0, name: 'bochs' };
    case 9: return { bytes: Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe, 0, rng.pick([1, 2])]), at: 0, name: 'luks' };
    case 10: return { bytes: text('#!/bin/sh\n#V2.0 Format\n'), at: 0, name: 'cloop' };
    case 11: return { bytes: Buffer.alloc(rng.int(0, 16)), at: 0, name: 'zeros' };
    default: return { bytes: Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255))), at: 0, name: 'random' };
  }
}

export interface ProbeCase { what: string; fileName: string }

/** Writes one probing case into `dir`-relative `base` (extension chosen at random) and describes it. */
export function writeProbeCase(rng: Rng, dirFile: (name: string) => string): ProbeCase {
  const size = rng.pick([0, 1, 8, 511, 512, 513, 1000, 4096, 65537, rng.int(0, 1 << 20), rng.int(1 << 20, 64 << 20)]);
  const head = header(rng);
  const fileName = `probe${rng.pick(['.img', '.raw', '.qcow2', '.dmg', ''])}`;
  const file = dirFile(fileName);
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, size);
    if (head.at < size) fs.writeSync(fd, head.bytes, 0, Math.min(head.bytes.length, size - head.at), head.at);
    for (let i = 0, n = rng.int(0, 4); i < n && size > 0; i++) {
      const at = rng.int(0, size - 1);
      const length = Math.min(size - at, rng.int(1, 64 * 1024));
      fs.writeSync(fd, Buffer.alloc(length, rng.int(1, 255)), 0, length, at);
    }
  } finally {
    fs.closeSync(fd);
  }
  return { what: `${head.name} size=${size} ${fileName}`, fileName };
}
