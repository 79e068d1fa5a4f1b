/**
 * An NBD client, enough for `imgaudit map` (as QEMU 7.2's block/nbd.c and
 * nbd/client.c talk to a server): fixed-newstyle handshake, optional
 * STARTTLS, NBD_OPT_STRUCTURED_REPLY, NBD_OPT_SET_META_CONTEXT for
 * `base:allocation` (or the `x-dirty-bitmap` context, e.g.
 * `qemu:allocation-depth`), NBD_OPT_GO with block-size information
 * (NBD_OPT_EXPORT_NAME on servers without GO), then one request at a time:
 * NBD_CMD_BLOCK_STATUS with REQ_ONE and NBD_CMD_READ. Every server answer is
 * bounds-checked: reply lengths are capped, handles must match, a reply
 * ends within a bounded number of chunks, and every wait has a deadline.
 */
import type tls from 'node:tls';
import { NbdConnection, NbdError, type SocketAddress } from './connection.js';
import * as P from './protocol.js';

export { NbdError } from './connection.js';

/** Largest option reply or reply chunk we accept (QEMU's NBD_MAX_STRING_SIZE is 4 KiB; data chunks are ours to size). */
const MAX_OPTION_REPLY = 64 << 10;
const MAX_STATUS_PAYLOAD = 64 << 10;
const MAX_CHUNKS_PER_REPLY = 4096;
/** Largest read we ask for (probing needs 512 bytes). */
const MAX_READ = 1 << 20;

export interface NbdClientOptions {
  address: SocketAddress;
  /** Export name ('' is the default export). */
  exportName: string;
  /** Meta context to query instead of base:allocation (`x-dirty-bitmap`). */
  dirtyBitmap?: string | undefined;
  /** TLS options when tls-creds are given. */
  tls?: tls.ConnectionOptions | undefined;
  /** The name the server's certificate must carry (tls-hostname, or the TCP host); none: not checked. */
  tlsHost?: string | undefined;
  /** Deadline of every wait, in ms. */
  timeoutMs: number;
  /**
   * Most block-status requests one client makes (default 2^24): a server
   * that answers with tiny extents forever (or claims a huge export) ends
   * in an error instead of an endless map.
   */
  maxRequests?: number;
}

export interface NbdExtent {
  lengthBytes: number;
  flags: number;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export class NbdClient {
  /** Export size in bytes. */
  sizeBytes = 0;
  /** NBD_INFO_BLOCK_SIZE minimum (0 when the server sent none). */
  minBlock = 0;
  /** The negotiated block-status context id, or null when block status is not available. */
  private contextId: number | null = null;
  private structured = false;
  /** True between the server's greeting and the end of option haggling. */
  negotiating = false;
  private nextHandle = 1n;
  private statusRequests = 0;

  private constructor(private readonly conn: NbdConnection, private readonly options: NbdClientOptions) {}

  /** Connects and negotiates; throws NbdError with QEMU's texts. */
  static async open(options: NbdClientOptions): Promise<NbdClient> {
    const conn = await NbdConnection.connect(options.address, options.timeoutMs);
    const client = new NbdClient(conn, options);
    try {
      await client.handshake();
    } catch (error) {
      if (client.negotiating) client.sendOption(P.OPT_ABORT, Buffer.alloc(0));
      conn.destroy();
      throw error;
    }
    return client;
  }

  /** Whether block status answers come from the server (else everything reads as data). */
  get hasBlockStatus(): boolean {
    return this.contextId !== null;
  }

  private async handshake(): Promise<void> {
    const head = await this.conn.read(16);
    const magic = head.readBigUInt64BE(0);
    if (magic !== P.NBDMAGIC) throw new NbdError('Server did not initiate NBD negotiation (bad magic)');
    const second = head.readBigUInt64BE(8);
    if (second === P.OLDSTYLE_MAGIC) throw new NbdError('Server uses the old-style NBD handshake, which imgaudit does not support');
    if (second !== P.IHAVEOPT) throw new NbdError('Bad server magic received');
    const serverFlags = (await this.conn.read(2)).readUInt16BE(0);
    if ((serverFlags & P.FLAG_FIXED_NEWSTYLE) === 0) throw new NbdError('Server does not support fixed-newstyle negotiation');
    const noZeroes = (serverFlags & P.FLAG_NO_ZEROES) !== 0;
    this.conn.write(u32(P.FLAG_FIXED_NEWSTYLE | (noZeroes ? P.FLAG_NO_ZEROES : 0)));
    this.negotiating = true;

    if (this.options.tls !== undefined) {
      this.sendOption(P.OPT_STARTTLS, Buffer.alloc(0));
      const reply = await this.optionReply(P.OPT_STARTTLS);
      if (reply.type !== P.REP_ACK) throw this.optionError(reply, P.OPT_STARTTLS);
      await this.conn.startTls(this.options.tls, this.options.tlsHost);
    }

    this.sendOption(P.OPT_STRUCTURED_REPLY, Buffer.alloc(0));
    const structured = await this.optionReply(P.OPT_STRUCTURED_REPLY);
    // Like QEMU (a non-strict option): any error reply means "no structured replies".
    if (structured.type === P.REP_ACK) this.structured = true;
    else if ((structured.type & P.REP_ERR_BIT) === 0) throw this.optionError(structured, P.OPT_STRUCTURED_REPLY);

    const name = Buffer.from(this.options.exportName, 'utf8');
    if (this.structured) await this.negotiateContext(name);
    else if (this.options.dirtyBitmap !== undefined) {
      throw new NbdError('requested x-dirty-bitmap requires structured replies, which the server does not support');
    }

    const go = Buffer.concat([u32(name.length), name, Buffer.from([0, 1, 0, P.INFO_BLOCK_SIZE])]);
    this.sendOption(P.OPT_GO, go);
    for (let n = 0; ; n++) {
      if (n > 64) throw new NbdError('Protocol error: too many replies to NBD_OPT_GO');
      const reply = await this.optionReply(P.OPT_GO);
      if (reply.type === P.REP_INFO) {
        this.readInfo(reply.data);
        continue;
      }
      if (reply.type === P.REP_ACK) break;
      if (reply.type === P.REP_ERR_UNSUP) {
        this.negotiating = false;
        await this.exportName(name, noZeroes);
        break;
      }
      throw this.optionError(reply, P.OPT_GO);
    }
    this.negotiating = false;
    if (this.sizeBytes < 0 || !Number.isSafeInteger(this.sizeBytes)) throw new NbdError('Protocol error: the export size is out of range');
    if (this.minBlock > 1 && this.sizeBytes % this.minBlock !== 0) {
      throw new NbdError(`export size ${this.sizeBytes} is not multiple of minimum block size ${this.minBlock}`);
    }
  }

  private async exportName(name: Buffer, noZeroes: boolean): Promise<void> {
    const header = Buffer.alloc(16);
    header.writeBigUInt64BE(P.IHAVEOPT, 0);
    header.writeUInt32BE(P.OPT_EXPORT_NAME, 8);
    header.writeUInt32BE(name.length, 12);
    this.conn.write(Buffer.concat([header, name]));
    const info = await this.conn.read(10);
    this.sizeBytes = Number(info.readBigUInt64BE(0));
    if (!noZeroes) await this.conn.skip(124);
  }

  private readInfo(data: Buffer): void {
    if (data.length < 2) throw new NbdError('Protocol error: NBD_REP_INFO too short');
    const type = data.readUInt16BE(0);
    if (type === P.INFO_EXPORT) {
      if (data.length !== 12) throw new NbdError(`Protocol error: incorrect option length ${data.length} for NBD_INFO_EXPORT`);
      this.sizeBytes = Number(data.readBigUInt64BE(2));
    } else if (type === P.INFO_BLOCK_SIZE) {
      if (data.length !== 14) throw new NbdError(`Protocol error: incorrect option length ${data.length} for NBD_INFO_BLOCK_SIZE`);
      const min = data.readUInt32BE(2);
      if (min === 0 || (min & (min - 1)) !== 0 || min > 64 << 10) throw new NbdError(`Protocol error: server minimum block size ${min} is not a power of two`);
      this.minBlock = min;
    }
  }

  private async negotiateContext(name: Buffer): Promise<void> {
    const wanted = this.options.dirtyBitmap ?? 'base:allocation';
    const query = Buffer.from(wanted, 'utf8');
    this.sendOption(P.OPT_SET_META_CONTEXT, Buffer.concat([u32(name.length), name, u32(1), u32(query.length), query]));
    for (let n = 0; ; n++) {
      if (n > 64) throw new NbdError('Protocol error: too many replies to NBD_OPT_SET_META_CONTEXT');
      const reply = await this.optionReply(P.OPT_SET_META_CONTEXT);
      if (reply.type === P.REP_META_CONTEXT) {
        if (reply.data.length < 4) throw new NbdError('Protocol error: NBD_REP_META_CONTEXT too short');
        const id = reply.data.readUInt32BE(0);
        const context = reply.data.subarray(4).toString('utf8');
        if (context !== wanted) throw new NbdError(`Protocol error: server replied with an unexpected meta context '${context}'`);
        if (this.contextId !== null) throw new NbdError('Protocol error: server replied with more than one context');
        this.contextId = id;
        continue;
      }
      if (reply.type === P.REP_ACK) break;
      if (reply.type === P.REP_ERR_UNSUP) break;
      throw this.optionError(reply, P.OPT_SET_META_CONTEXT);
    }
    if (this.contextId === null && this.options.dirtyBitmap !== undefined) {
      // QEMU 7.2 reports this as a bare EINVAL of the open.
      throw new NbdError('Could not open image: Invalid argument', 'E_NBD_NO_CONTEXT');
    }
  }

  sendOption(option: number, data: Buffer): void {
    const header = Buffer.alloc(16);
    header.writeBigUInt64BE(P.IHAVEOPT, 0);
    header.writeUInt32BE(option, 8);
    header.writeUInt32BE(data.length, 12);
    this.conn.write(Buffer.concat([header, data]));
  }

  private async optionReply(option: number): Promise<{ type: number; data: Buffer }> {
    const head = await this.conn.read(20);
    if (head.readBigUInt64BE(0) !== P.OPT_REPLY_MAGIC) throw new NbdError('Unexpected option reply magic');
    const replyOption = head.readUInt32BE(8);
    const type = head.readUInt32BE(12);
    const length = head.readUInt32BE(16);
    if (replyOption !== option) throw new NbdError(`Unexpected option in reply: ${replyOption} (expected ${option})`);
    if (length > MAX_OPTION_REPLY) throw new NbdError(`Protocol error: option reply of ${length} bytes is too long`);
    return { type, data: await this.conn.read(length) };
  }

  private optionError(reply: { type: number; data: Buffer }, option: number): NbdError {
    if ((reply.type & P.REP_ERR_BIT) === 0) return new NbdError(`Protocol error: unexpected reply type ${reply.type} to option ${option} (${P.optionName(option)})`);
    const { message, hint } = P.optionErrorText(reply.type, option);
    const hints: string[] = [];
    if (hint !== undefined) hints.push(hint);
    if (reply.data.length > 0) hints.push(`server reported: ${reply.data.toString('utf8')}`);
    return new NbdError(message, reply.type === P.REP_ERR_UNKNOWN ? 'E_NBD_NO_EXPORT' : 'E_NBD_OPTION', hints);
  }

  private request(type: number, flags: number, offset: number, length: number): bigint {
    const handle = this.nextHandle++;
    const b = Buffer.alloc(28);
    b.writeUInt32BE(P.REQUEST_MAGIC, 0);
    b.writeUInt16BE(flags, 4);
    b.writeUInt16BE(type, 6);
    b.writeBigUInt64BE(handle, 8);
    b.writeBigUInt64BE(BigInt(offset), 16);
    b.writeUInt32BE(length >>> 0, 24);
    this.conn.write(b);
    return handle;
  }

  /** Reads one reply (simple or all structured chunks) for `handle`, handing each chunk to `onChunk`. */
  private async reply(handle: bigint, onChunk: (type: number, payload: Buffer) => void, payloadLimit: number): Promise<Buffer | null> {
    for (let n = 0; n < MAX_CHUNKS_PER_REPLY; n++) {
      const magic = (await this.conn.read(4)).readUInt32BE(0);
      if (magic === P.SIMPLE_REPLY_MAGIC) {
        const rest = await this.conn.read(12);
        const error = rest.readUInt32BE(0);
        if (rest.readBigUInt64BE(4) !== handle) throw new NbdError('Protocol error: the server replied with a wrong handle');
        if (this.structured && error === 0) throw new NbdError('Protocol error: simple reply without error to a structured request');
        if (error !== 0) throw new NbdError(`NBD server error: ${P.nbdErrnoText(error)}`, 'E_NBD_SERVER');
        return null;
      }
      if (magic !== P.STRUCTURED_REPLY_MAGIC || !this.structured) throw new NbdError(`Protocol error: invalid reply magic 0x${magic.toString(16)}`);
      const head = await this.conn.read(16);
      const flags = head.readUInt16BE(0);
      const type = head.readUInt16BE(2);
      if (head.readBigUInt64BE(4) !== handle) throw new NbdError('Protocol error: the server replied with a wrong handle');
      const length = head.readUInt32BE(12);
      if (length > payloadLimit) throw new NbdError(`Protocol error: reply chunk of ${length} bytes is too long`);
      const payload = await this.conn.read(length);
      if (type === P.REPLY_TYPE_ERROR || type === P.REPLY_TYPE_ERROR_OFFSET) {
        if (payload.length < 6) throw new NbdError('Protocol error: invalid error chunk');
        const messageLength = payload.readUInt16BE(4);
        const text = payload.subarray(6, 6 + messageLength).toString('utf8');
        throw new NbdError(`NBD server error: ${P.nbdErrnoText(payload.readUInt32BE(0))}${text !== '' ? ` (server reported: ${text})` : ''}`, 'E_NBD_SERVER');
      }
      if (type !== P.REPLY_TYPE_NONE) onChunk(type, payload);
      else if (length !== 0) throw new NbdError('Protocol error: NBD_REPLY_TYPE_NONE with a payload');
      if ((flags & P.REPLY_FLAG_DONE) !== 0) return payload;
    }
    throw new NbdError(`Protocol error: a reply of more than ${MAX_CHUNKS_PER_REPLY} chunks`);
  }

  /**
   * The first extent at `offset` for at most `length` bytes (QEMU's
   * nbd_client_co_block_status with REQ_ONE): zero-length extents fail,
   * longer ones are clamped, unaligned ones are rounded as QEMU does.
   */
  async blockStatus(offset: number, length: number): Promise<NbdExtent> {
    if (this.contextId === null) throw new NbdError('block status is not available');
    const limit = this.options.maxRequests ?? 1 << 24;
    if (++this.statusRequests > limit) {
      throw new NbdError(`NBD server needed more than ${limit} block status requests for one map; giving up (its extents are too small)`, 'E_NBD_TOO_MANY');
    }
    const handle = this.request(P.CMD_BLOCK_STATUS, P.CMD_FLAG_REQ_ONE, offset, length);
    let extent: NbdExtent | undefined;
    await this.reply(handle, (type, payload) => {
      if (type !== P.REPLY_TYPE_BLOCK_STATUS) throw new NbdError(`Protocol error: unexpected reply chunk type ${type} to NBD_CMD_BLOCK_STATUS`);
      if (extent !== undefined) throw new NbdError('Protocol error: server sent more than one status chunk');
      if (payload.length < 12) throw new NbdError('Protocol error: invalid payload for NBD_REPLY_TYPE_BLOCK_STATUS');
      const id = payload.readUInt32BE(0);
      if (id !== this.contextId) {
        throw new NbdError(`Protocol error: unexpected context id ${id} for NBD_REPLY_TYPE_BLOCK_STATUS, when negotiated context id is ${this.contextId}`);
      }
      let lengthBytes = payload.readUInt32BE(4);
      let flags = payload.readUInt32BE(8);
      if (lengthBytes === 0) throw new NbdError('Protocol error: server sent status chunk with zero length');
      if (this.minBlock > 0 && lengthBytes % this.minBlock !== 0) {
        if (lengthBytes > this.minBlock) lengthBytes -= lengthBytes % this.minBlock;
        else {
          lengthBytes = this.minBlock;
          flags = 0;
        }
      }
      if (lengthBytes > length) lengthBytes = length;
      extent = { lengthBytes, flags };
    }, MAX_STATUS_PAYLOAD);
    if (extent === undefined) throw new NbdError('Protocol error: server did not reply with any status extents');
    return extent;
  }

  /** Reads [offset, offset + length) (length ≤ 1 MiB), holes as zeroes. */
  async read(offset: number, length: number): Promise<Buffer> {
    if (length > MAX_READ) throw new RangeError('NBD read too large');
    const handle = this.request(P.CMD_READ, 0, offset, length);
    const out = Buffer.alloc(length);
    const done = await this.reply(handle, (type, payload) => {
      if (payload.length < 8) throw new NbdError('Protocol error: invalid read chunk');
      const at = Number(payload.readBigUInt64BE(0)) - offset;
      if (type === P.REPLY_TYPE_OFFSET_DATA) {
        const data = payload.subarray(8);
        if (at < 0 || at + data.length > length) throw new NbdError('Protocol error: server sent data outside the request');
        data.copy(out, at);
      } else if (type === P.REPLY_TYPE_OFFSET_HOLE) {
        const holeLength = payload.readUInt32BE(8);
        if (payload.length !== 12 || at < 0 || at + holeLength > length) throw new NbdError('Protocol error: server sent a hole outside the request');
      } else {
        throw new NbdError(`Protocol error: unexpected reply chunk type ${type} to NBD_CMD_READ`);
      }
    }, length + 16);
    if (done === null && !this.structured) {
      // A simple reply: the data follows it.
      return this.conn.read(length);
    }
    return out;
  }

  /** NBD_CMD_DISC and close. */
  close(): void {
    try {
      this.request(P.CMD_DISC, 0, 0, 0);
    } finally {
      this.conn.destroy();
    }
  }
}
