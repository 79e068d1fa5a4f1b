/**
 * qemu-nbd servers for the live tier: each on its own unix socket in the
 * test's temp dir or on a free TCP port, started with `-t` (persistent) and
 * waited for until it accepts connections; stopped by pid.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';

export const hasQemuNbd: boolean = spawnSync('qemu-nbd', ['--version'], { stdio: 'ignore' }).status === 0;

/** A TCP port that was free a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(options: net.NetConnectOpts): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection(options);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface NbdServer {
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `qemu-nbd -t ARGS` in `cwd` and resolves once `address` accepts connections. */
export async function startQemuNbd(args: readonly string[], cwd: string, address: net.NetConnectOpts): Promise<NbdServer> {
  const child = spawn('qemu-nbd', ['-t', ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`qemu-nbd ${args.join(' ')} exited: ${stderr}`);
    // A probe connection makes qemu-nbd log a failed negotiation; harmless.
    if (await canConnect(address)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    process: child,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
