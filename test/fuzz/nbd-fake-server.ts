/**
 * A scripted NBD server for the client fuzz test: a correct fixed-newstyle
 * server over an in-memory export (random extents), whose output can be
 * mutated: cut short, a byte flipped, stalled, garbage appended, wrong
 * handles, zero-length or oversized extents, endless chunks, oversized
 * option replies, extra contexts.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { Rng } from '../support/prng.js';

export interface Extent { length: number; flags: number }

export type Mutation =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'stall'; at: number }
  | { kind: 'garbage'; at: number; bytes: Buffer }
  | { kind: 'wrong-handle' }
  | { kind: 'zero-extent' }
  | { kind: 'huge-extent' }
  | { kind: 'endless-chunks' }
  | { kind: 'huge-option-reply' }
  | { kind: 'wrong-context' }
  | { kind: 'no-done' };

export interface FakeExport { size: number; extents: Extent[]; minBlock: number }

/** A random export: size (sometimes not a multiple of 512) and extents covering it. */
export function randomExport(rng: Rng): FakeExport {
  const minBlock = rng.pick([0, 1, 512]);
  let size = rng.chance(0.2) ? rng.int(0, 5000) : rng.int(1, 64) * 65536 + (rng.chance(0.3) ? rng.int(1, 511) : 0);
  // A server's size is a multiple of its minimum block (the client refuses others); extents need not be.
  if (minBlock > 1) size = Math.ceil(size / minBlock) * minBlock;
  const extents: Extent[] = [];
  for (let at = 0; at < size;) {
    const length = Math.min(size - at, rng.pick([512, 4096, 65536, rng.int(1, 200_000)]));
    extents.push({ length, flags: rng.pick([0, 1, 2, 3]) });
    at += length;
  }
  return { size, extents, minBlock };
}

export function randomMutation(rng: Rng): Mutation {
  const kind = rng.pick(['none', 'truncate', 'flip', 'stall', 'garbage', 'wrong-handle', 'zero-extent', 'huge-extent',
    'endless-chunks', 'huge-option-reply', 'wrong-context', 'no-done'] as const);
  switch (kind) {
    case 'truncate': return { kind, at: rng.int(0, 400) };
    case 'flip': return { kind, at: rng.int(0, 400), xor: rng.int(1, 255) };
    case 'stall': return { kind, at: rng.int(0, 400) };
    case 'garbage': return { kind, at: rng.int(0, 400), bytes: Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255))) };
    default: return { kind };
  }
}

const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u64 = (n: bigint | number): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };

function optReply(option: number, type: number, data: Buffer): Buffer {
  return Buffer.concat([u64(0x3e889045565a9n), u32(option), u32(type), u32(data.length), data]);
}

function chunk(flags: number, type: number, handle: Buffer, payload: Buffer): Buffer {
  return Buffer.concat([u32(0x668e33ef), u16(flags), u16(type), handle, u32(payload.length), payload]);
}

/** Starts the server on `socketPath`; resolves with a stop function. */
export function startFakeServer(socketPath: string, exp: FakeExport, mutation: Mutation): Promise<() => Promise<void>> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let sent = 0;
    let stalled = false;
    const send = (data: Buffer): void => {
      if (stalled || socket.destroyed) return;
      let out = data;
      if (mutation.kind === 'flip' && mutation.at >= sent && mutation.at < sent + out.length) {
        out = Buffer.from(out);
        out[mutation.at - sent] ^= mutation.xor;
      }
      if (mutation.kind === 'garbage' && mutation.at >= sent && mutation.at < sent + out.length) {
        const cut = mutation.at - sent;
        out = Buffer.concat([out.subarray(0, cut), mutation.bytes, out.subarray(cut)]);
      }
      if ((mutation.kind === 'truncate' || mutation.kind === 'stall') && sent + out.length > mutation.at) {
        socket.write(out.subarray(0, Math.max(0, mutation.at - sent)));
        sent = mutation.at;
        if (mutation.kind === 'truncate') socket.end();
        stalled = true;
        return;
      }
      sent += out.length;
      socket.write(out);
    };
    let input = Buffer.alloc(0);
    let phase: 'flags' | 'options' | 'transmission' = 'flags';
    send(Buffer.concat([u64(0x4e42444d41474943n), u64(0x49484156454f5054n), u16(3)]));
    socket.on('data', (data: Buffer) => {
      input = Buffer.concat([input, data]);
      for (;;) {
        if (phase === 'flags') {
          if (input.length < 4) return;
          input = input.subarray(4);
          phase = 'options';
          continue;
        }
        if (phase === 'options') {
          if (input.length < 16) return;
          const option = input.readUInt32BE(8);
          const length = input.readUInt32BE(12);
          if (input.length < 16 + length) return;
          input = input.subarray(16 + length);
          if (mutation.kind === 'huge-option-reply') {
            send(Buffer.concat([u64(0x3e889045565a9n), u32(option), u32(1), u32(0x7fffffff)]));
            continue;
          }
          if (option === 8) send(optReply(option, 1, Buffer.alloc(0)));
          else if (option === 10) {
            send(optReply(option, 4, Buffer.concat([u32(mutation.kind === 'wrong-context' ? 9 : 1), Buffer.from('base:allocation')])));
            send(optReply(option, 1, Buffer.alloc(0)));
          } else if (option === 7) {
            send(optReply(option, 3, Buffer.concat([u16(0), u64(exp.size), u16(1)])));
            if (exp.minBlock > 0) send(optReply(option, 3, Buffer.concat([u16(3), u32(exp.minBlock), u32(4096), u32(1 << 25)])));
            send(optReply(option, 1, Buffer.alloc(0)));
            phase = 'transmission';
          } else if (option === 2) {
            socket.end();
            return;
          } else {
            send(optReply(option, 0x80000001, Buffer.alloc(0)));
          }
          continue;
        }
        if (input.length < 28) return;
        const type = input.readUInt16BE(6);
        const handle = Buffer.from(input.subarray(8, 16));
        const offset = Number(input.readBigUInt64BE(16));
        const length = input.readUInt32BE(24);
        input = input.subarray(28);
        const h = mutation.kind === 'wrong-handle' ? u64(handle.readBigUInt64BE(0) + 7n) : handle;
        const done = mutation.kind === 'no-done' ? 0 : 1;
        if (type === 2) {
          socket.end();
          return;
        }
        if (type === 0) {
          const payload = Buffer.concat([u64(offset), Buffer.alloc(length)]);
          send(chunk(done, 1, h, payload));
        } else if (type === 7) {
          let at = 0;
          let found: Extent = { length: 1, flags: 0 };
          for (const e of exp.extents) {
            if (offset < at + e.length) { found = { length: at + e.length - offset, flags: e.flags }; break; }
            at += e.length;
          }
          let len = Math.min(found.length, length);
          if (mutation.kind === 'zero-extent') len = 0;
          if (mutation.kind === 'huge-extent') len = 0xffffffff;
          if (mutation.kind === 'endless-chunks') {
            for (let i = 0; i < 5000 && !socket.destroyed; i++) send(chunk(0, 5, h, Buffer.concat([u32(1), u32(len), u32(found.flags)])));
          }
          send(chunk(done, 5, h, Buffer.concat([u32(1), u32(len), u32(found.flags)])));
        } else {
          send(Buffer.concat([u32(0x67446698), u32(22), h]));
        }
      }
    });
  });
  return new Promise((resolve) => {
    fs.rmSync(socketPath, { force: true });
    server.listen(socketPath, () => resolve(() => new Promise((done) => {
      for (const s of sockets) s.destroy();
      server.close(() => done());
    })));
  });
}
