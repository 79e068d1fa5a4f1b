/**
 * A byte stream to an NBD server (unix or TCP socket, optionally TLS) with
 * exact-length reads, a deadline on every wait, and bounded buffering: the
 * socket is paused while more than BUFFER_LIMIT bytes wait unread, so a
 * server that floods cannot grow our memory.
 */
import net from 'node:net';
import type tls from 'node:tls';
import { strerror } from '../strerror.js';
import { NbdError } from './nbd-error.js';

export { NbdError } from './nbd-error.js';

const BUFFER_LIMIT = 1 << 20;

export type SocketAddress = { type: 'unix'; path: string } | { type: 'inet'; host: string; port: number };

export class NbdConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: (() => void) | undefined;
  private failure: NbdError | undefined;
  private ended = false;

  private constructor(private socket: net.Socket, private readonly timeoutMs: number) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered > BUFFER_LIMIT) socket.pause();
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (error) => {
      this.failure ??= new NbdError(`NBD connection failed: ${strerror(error)}`);
      this.wake();
    });
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** Connects; fails with QEMU's "Failed to connect to 'ADDR': <strerror>". */
  static connect(address: SocketAddress, timeoutMs: number): Promise<NbdConnection> {
    const label = address.type === 'unix' ? address.path : `${address.host}:${address.port}`;
    return new Promise((resolve, reject) => {
      const socket = address.type === 'unix'
        ? net.createConnection({ path: address.path })
        : net.createConnection({ host: address.host, port: address.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new NbdError(`Failed to connect to '${label}': Connection timed out`, 'E_NBD_CONNECT'));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new NbdError(`Failed to connect to '${label}': ${strerror(error)}`, 'E_NBD_CONNECT'));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay?.(true);
        resolve(new NbdConnection(socket, timeoutMs));
      });
    });
  }

  /** Switches to TLS (after NBD_OPT_STARTTLS was acknowledged). */
  async startTls(options: tls.ConnectionOptions, host: string | undefined): Promise<void> {
    if (this.buffered > 0) throw new NbdError('Protocol error: server sent data before the TLS handshake');
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('end');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const { connect, checkServerIdentity } = await import('node:tls');
    const identity: tls.ConnectionOptions = host === undefined
      ? { checkServerIdentity: () => undefined }
      : net.isIP(host) !== 0
        ? { checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert) }
        : { servername: host };
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const timer = setTimeout(() => reject(new NbdError('TLS handshake timed out', 'E_NBD_TLS')), this.timeoutMs);
      const s = connect({ ...options, ...identity, socket: plain }, () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (error) => {
        clearTimeout(timer);
        reject(new NbdError(`TLS handshake failed: ${error.message}`, 'E_NBD_TLS'));
      });
    });
    secure.removeAllListeners('error');
    this.socket = secure;
    this.attach(secure);
  }

  /** Exactly `length` bytes; fails on end of stream, socket errors and the deadline. */
  async read(length: number): Promise<Buffer> {
    const deadline = Date.now() + this.timeoutMs;
    while (this.buffered < length) {
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) throw new NbdError('Protocol error: the server closed the connection in the middle of a reply', 'E_NBD_SHORT');
      this.socket.resume();
      const wait = deadline - Date.now();
      if (wait <= 0) {
        this.destroy();
        throw new NbdError(`NBD server sent no reply within ${this.timeoutMs} ms`, 'E_NBD_TIMEOUT');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = Buffer.from(all.subarray(0, length));
    const rest = all.subarray(length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    if (this.buffered <= BUFFER_LIMIT) this.socket.resume();
    return out;
  }

  /** Reads and drops `length` bytes without holding them all. */
  async skip(length: number): Promise<void> {
    for (let left = length; left > 0;) {
      const n = Math.min(left, 64 << 10);
      await this.read(n);
      left -= n;
    }
  }

  write(data: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
