/**
 * Mapping one image's chain into a sink, consistently: the files' identities
 * at open time are compared with a stat after the map; a chain that changed
 * meanwhile is mapped again (a bounded number of times) and otherwise kept
 * with `isStable: false`. Image-level failures become a `failed` outcome;
 * errors of the sink (the store) propagate.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ImgauditError } from '../errors.js';
import type { ImageLayer } from '../formats/types.js';
import type { OpenChainOptions } from '../map/chain.js';
import { type ChainLayerInfo, type FileIdentity, ImageChain, describeLayer } from '../map/image-chain.js';
import type { MapEntry } from '../map/map-entry.js';
import type { FileGuard } from '../map/opened-files.js';
import { areAllUnchanged } from './file-identity.js';

/** What the scanner needs of an opened chain (ImageChain, or a test double). */
export interface ChainHandle {
  readonly layers: readonly ChainLayerInfo[];
  readonly virtualSizeBytes: number;
  entriesSync(): Iterable<MapEntry>;
  close(): void;
}

/** Opens a chain read-only (ImageChain.open unless a test injects another). */
export type ChainOpener = (filename: string, options: OpenChainOptions) => ChainHandle;

/** The library's opener. */
export const openImageChain: ChainOpener = (filename, options) => ImageChain.open(filename, options);

/** Where a chain's entries go: `finish` after the last entry, `abort` to drop them. */
export interface EntrySink<T> {
  add(entry: MapEntry): void;
  finish(): T;
  abort(): void;
}

/** How to map one chain. */
export interface MapChainOptions<T> {
  open: ChainOpener;
  maxDepth: number;
  /** Extra attempts for a chain that changes while it is mapped. */
  changeRetries: number;
  signal: AbortSignal;
  /** Checks each backing file, data file and extent before it is opened; throwing refuses it. */
  guardFile?: FileGuard;
  /** A fresh sink for one attempt. */
  sink(chain: ChainHandle): EntrySink<T>;
}

/** A mapped chain (with the sink's result), or why it could not be mapped. */
export type MapChainOutcome<T> =
  | { kind: 'mapped'; layers: readonly ChainLayerInfo[]; virtualSizeBytes: number; result: T;
      attempts: number; isStable: boolean }
  | { kind: 'failed'; layers: readonly ChainLayerInfo[]; code: string; message: string;
      /** The system error behind it (`ENOENT`...), when there is one. */
      errno: string | null;
      /** Depth of the layer that failed to open; null when mapping failed. */
      depth: number | null };

/** Entries mapped between two turns of the event loop (signals, progress, other chains). */
const ENTRIES_PER_TURN = 16_384;

function failure(error: unknown): { code: string; message: string; errno: string | null } {
  if (error instanceof ImgauditError) {
    const cause = error.cause as NodeJS.ErrnoException | undefined;
    return { code: error.code, message: error.message, errno: typeof cause?.code === 'string' ? cause.code : null };
  }
  const message = `internal error: ${error instanceof Error ? error.message : String(error)}`;
  return { code: 'E_INTERNAL', message, errno: null };
}

function chainFiles(layers: readonly ChainLayerInfo[]): FileIdentity[] {
  return layers.flatMap((layer) => [layer.file, ...layer.extraFiles]);
}

/** Maps the chain whose top is `file`. Throws only the signal's reason and sink errors. */
export async function mapChain<T>(file: string, options: MapChainOptions<T>): Promise<MapChainOutcome<T>> {
  for (let attempt = 1; ; attempt++) {
    const seen: ChainLayerInfo[] = [];
    let chain: ChainHandle;
    try {
      chain = options.open(file, {
        maxDepth: options.maxDepth,
        dataFileFromImageDir: true,
        checkBacking: (_resolved, overlay) => {
          seen.push(describeLayer(overlay, seen.length));
        },
        ...(options.guardFile === undefined ? {} : { guardFile: options.guardFile }),
      });
    } catch (error) {
      return { kind: 'failed', layers: seen, ...failure(error), depth: seen.length };
    }
    const sink = options.sink(chain);
    try {
      const entries = chain.entriesSync()[Symbol.iterator]();
      for (let n = 1; ; n++) {
        let next: IteratorResult<MapEntry>;
        try {
          next = entries.next();
        } catch (error) {
          sink.abort();
          return { kind: 'failed', layers: chain.layers, ...failure(error), depth: null };
        }
        if (next.done === true) break;
        sink.add(next.value);
        if (n % ENTRIES_PER_TURN === 0) {
          await yieldToEventLoop();
          options.signal.throwIfAborted();
        }
      }
      const isStable = areAllUnchanged(chainFiles(chain.layers));
      if (!isStable && attempt <= options.changeRetries) {
        sink.abort();
        continue;
      }
      const result = sink.finish();
      return { kind: 'mapped', layers: chain.layers, virtualSizeBytes: chain.virtualSizeBytes, result, attempts: attempt, isStable };
    } catch (error) {
      sink.abort();
      throw error;
    } finally {
      chain.close();
    }
  }
}
