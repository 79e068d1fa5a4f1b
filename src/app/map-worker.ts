/**
 * A map worker (worker_threads entry point; bundled as dist/map-worker.js):
 * a thin shell over crawl/map-chain and map/ that maps the chains the scan
 * sends it (several at once: while one waits on its staged reads, another
 * computes), and streams each map back in compact blocks with
 * its hash and per-depth sums (map-protocol.ts). It knows nothing of the
 * store. It also answers the post-scan pass's FIEMAP requests (io/extents),
 * so that those system calls wait on the storage in parallel. Test hook, after the first entry of a chain whose path contains
 * NAME: IMGAUDIT_TEST_WORKER_FAULT=exit:NAME makes the worker exit,
 * throw:NAME throws (an error no handler of the worker catches), and pause:NAME:FILE creates FILE
 * and waits until it is removed (so a test can change the image meanwhile),
 * once per chain; pause-block:NAME:FILE pauses so after the chain's first
 * full block was sent (the writer holds a half-written map meanwhile).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { type Classification, classifyOpened, unreadable } from '../crawl/classify.js';
import { mapChain, openImageChain } from '../crawl/map-chain.js';
import { ImgauditError } from '../errors.js';
import { hostExtents } from '../io/extents.js';
import { HostFile, shareReads } from '../io/host-file.js';
import { ChainAccount } from '../map/chain-account.js';
import { EntryBlock, finishHash, hashColumns } from '../map/entry-block.js';
import type { MapEntry } from '../map/map-entry.js';
import { rootsGuard } from './backing-policy.js';
import {
  type ExtentsRequest, type MapRequest, type MapSummary, MAX_UNACKED_BLOCKS, type WorkerMessage,
} from './map-protocol.js';

/** Bytes of shared base images kept per worker (io/read-cache.ts). */
const SHARED_READ_BYTES = 8 * 1024 * 1024;

const port = parentPort!;
shareReads(SHARED_READ_BYTES);
let unacked = 0;
let waiting: (() => void)[] = [];
const fault = /^(exit|throw|pause|pause-block):([^:]+)(?::(.+))?$/.exec(process.env.IMGAUDIT_TEST_WORKER_FAULT ?? '');

function post(message: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** Sends a block (its buffers move to the writer). */
function sendBlock(id: number, block: EntryBlock): void {
  const { columns, transfer } = block.detach();
  post({ kind: 'block', id, columns }, transfer);
  unacked++;
}

/** Resolves when the writer has room for another block (undefined: it has now). */
function room(): Promise<void> | undefined {
  if (unacked < MAX_UNACKED_BLOCKS) return undefined;
  return new Promise((resolve) => { waiting.push(resolve); });
}

/** Chains the pause hook has paused (once each). */
const paused = new Set<string>();

/** The test hook (see the module comment); a promise while paused. */
function injectFault(file: string, atBlock: boolean): Promise<void> | undefined {
  if (fault === null || !file.includes(fault[2]!) || (fault[1] === 'pause-block') !== atBlock) return undefined;
  if (fault[1] === 'exit') process.exit(70);
  if (fault[1] === 'throw') throw new Error(`injected fault while mapping ${file}`);
  if (paused.has(file)) return undefined;
  paused.add(file);
  const marker = fault[3]!;
  fs.writeFileSync(marker, file);
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (fs.existsSync(marker)) return;
      clearInterval(poll);
      resolve();
    }, 5);
  });
}

/** Opens the candidate (without blocking the thread) and classifies it by its magic. */
async function classifyRequest(request: MapRequest): Promise<{ classification: Classification; top: HostFile | null }> {
  let top: HostFile;
  try {
    top = await HostFile.openAsync(request.file);
  } catch (error) {
    if (!(error instanceof ImgauditError)) throw error;
    return { classification: unreadable(request.file, request.isRawName, error), top: null };
  }
  const classification = classifyOpened(top, request.isRawName);
  if (classification.kind === 'image') return { classification, top };
  top.close();
  return { classification, top: null };
}

async function mapOne(request: MapRequest): Promise<void> {
  const { classification, top } = await classifyRequest(request);
  if (top === null) {
    post({ kind: 'done', id: request.id, classification, outcome: null, last: null });
    return;
  }
  const tail: { last: ReturnType<EntryBlock['detach']> | null } = { last: null };
  const guardFile = rootsGuard(request.roots, request.followBackingOutsideRoots);
  const outcome = await mapChain<MapSummary>(request.file, {
    open: openImageChain, maxDepth: request.maxDepth, changeRetries: request.changeRetries,
    signal: new AbortController().signal, guardFile,
    openTop: (attempt) => (attempt === 1 ? Promise.resolve(top) : HostFile.openAsync(request.file)),
    sink: (chain) => {
      post({ kind: 'attempt', id: request.id, virtualSizeBytes: chain.virtualSizeBytes, layers: chain.layers });
      const block = new EntryBlock();
      const hash = createHash('sha256');
      const account = new ChainAccount(chain.layers.map((layer) => layer.format === 'raw'));
      let entries = 0;
      return {
        add(entry: MapEntry) {
          account.add(entry);
          block.add(entry);
          if (++entries === 1 && fault !== null) {
            const pausing = injectFault(request.file, false);
            if (pausing !== undefined) return pausing;
          }
          if (!block.isFull) return undefined;
          hashColumns(hash, block);
          sendBlock(request.id, block);
          const pausing = fault === null ? undefined : injectFault(request.file, true);
          return pausing ?? room();
        },
        finish(): MapSummary {
          hashColumns(hash, block);
          const digest = finishHash(hash, chain.virtualSizeBytes);
          tail.last = block.count > 0 ? block.detach() : null;
          return { digest, entryCount: entries, depthTotals: account.depthTotals, unallocatedBytes: account.unallocatedBytes };
        },
        abort() {
          // The writer drops the attempt's rows when the next attempt or the outcome arrives.
        },
      };
    },
  });
  if (outcome.kind === 'mapped') {
    const { last } = tail;
    post({ kind: 'done', id: request.id, classification, outcome: { ...outcome, layers: [] }, last: last?.columns ?? null }, last?.transfer ?? []);
  } else {
    post({ kind: 'done', id: request.id, classification, outcome, last: null });
  }
}

/** FIEMAP of one file (blocking this worker, not the writer); errors go back as code and message. */
function extentsOf(request: ExtentsRequest): void {
  try {
    post({ kind: 'extents', id: request.id, extents: hostExtents(request.path), error: null });
  } catch (error) {
    if (!(error instanceof ImgauditError)) throw error;
    post({ kind: 'extents', id: request.id, extents: null, error: { code: error.code, message: error.message } });
  }
}

port.on('message', (message: MapRequest | ExtentsRequest | { kind: 'ack' }) => {
  if (message.kind === 'extents') {
    extentsOf(message);
    return;
  }
  if (message.kind === 'ack') {
    unacked--;
    if (unacked < MAX_UNACKED_BLOCKS) {
      const resolved = waiting;
      waiting = [];
      for (const resolve of resolved) resolve();
    }
    return;
  }
  // A failure here is a bug: it ends the worker, and the pool records E_INTERNAL for its chains.
  void mapOne(message);
});
