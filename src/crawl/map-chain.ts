/**
 * Mapping one image's chain into a sink, consistently: the files' identities
 * at open time are compared with a stat after the map; a chain that changed
 * meanwhile is mapped again (a bounded number of times) and otherwise kept
 * with `isStable: false`. Image-level failures become a `failed` outcome;
 * errors of the sink (the store) propagate.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ImgauditError } from '../errors.js';
import type { HostFile } from '../io/host-file.js';
import type { OpenChainOptions } from '../map/chain.js';
import { type ChainLayerInfo, type FileIdentity, ImageChain, describeLayer } from '../map/image-chain.js';
import type { EmittedEntry, MapRangeOptions } from '../map/map-entries.js';
import type { MapEntry } from '../map/map-entry.js';
import type { FileGuard } from '../map/opened-files.js';
import { StagedOpen } from '../map/staged-open.js';
import { areAllUnchanged } from './file-identity.js';

/** What the scanner needs of an opened chain (ImageChain, or a test double). */
export interface ChainHandle {
  readonly layers: readonly ChainLayerInfo[];
  readonly virtualSizeBytes: number;
  entriesSync(): Iterable<MapEntry>;
  /** The entries with the tables staged ahead (ImageChain); test doubles may leave it out. */
  forEachEmitted?(range: MapRangeOptions, onEntry: (emitted: EmittedEntry) => void | Promise<void>): Promise<void>;
  close(): void;
}

/** Opens a chain read-only (ImageChain.open unless a test injects another). */
export type ChainOpener = (filename: string, options: OpenChainOptions) => ChainHandle;

/** The library's opener. */
export const openImageChain: ChainOpener = (filename, options) => ImageChain.open(filename, options);

/** Where a chain's entries go: `finish` after the last entry, `abort` to drop them. */
export interface EntrySink<T> {
  /** Takes one entry; a promise makes the walk wait (backpressure). */
  add(entry: MapEntry): void | Promise<void>;
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
  /**
   * Opens the top image's file without blocking the thread (before each
   * attempt; `open` then adopts it). Optional: `open` opens it otherwise.
   */
  openTop?(attempt: number): Promise<HostFile>;
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

/** Thrown through the walk around an error of the sink, so that it is not taken for the image's. */
class SinkFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Feeds the chain's entries to the sink, yielding to the event loop now and
 * then. Returns the image's error, if reading failed; throws the sink's
 * errors and the signal's reason.
 */
async function walk<T>(chain: ChainHandle, sink: EntrySink<T>, signal: AbortSignal): Promise<{ error: unknown } | null> {
  let n = 0;
  const onEntry = (entry: MapEntry): void | Promise<void> => {
    let pending: void | Promise<void>;
    try {
      pending = sink.add(entry);
    } catch (error) {
      throw new SinkFailure(error);
    }
    if (pending !== undefined) return pending.catch((error: unknown) => { throw new SinkFailure(error); });
    if (++n % ENTRIES_PER_TURN === 0) {
      return yieldToEventLoop().then(() => signal.throwIfAborted());
    }
  };
  try {
    if (chain.forEachEmitted !== undefined) {
      await chain.forEachEmitted({}, (emitted) => onEntry(emitted.entry));
    } else {
      for (const entry of chain.entriesSync()) {
        const pending = onEntry(entry);
        if (pending !== undefined) await pending;
      }
    }
    return null;
  } catch (error) {
    if (error instanceof SinkFailure) throw error.error;
    if (signal.aborted && error === signal.reason) throw error;
    return { error };
  }
}

/** Maps the chain whose top is `file`. Throws only the signal's reason and sink errors. */
export async function mapChain<T>(file: string, options: MapChainOptions<T>): Promise<MapChainOutcome<T>> {
  for (let attempt = 1; ; attempt++) {
    const seen: ChainLayerInfo[] = [];
    let chain: ChainHandle;
    let staged: StagedOpen | undefined;
    try {
      let topFile: HostFile | undefined;
      try {
        topFile = options.openTop === undefined ? undefined : await options.openTop(attempt);
      } catch (error) {
        // The message openChain would have given ("Could not open 'top': Could not open 'top': ...").
        if (error instanceof ImgauditError) error.message = `Could not open '${file}': ${error.message}`;
        throw error;
      }
      // With the top opened beforehand, the open is staged: its reads do not block the thread.
      staged = topFile === undefined ? undefined : new StagedOpen({ name: file, file: topFile });
      const open = (): ChainHandle => {
        seen.length = 0;
        return options.open(file, {
          ...(staged === undefined ? {} : { staged }),
          maxDepth: options.maxDepth,
          dataFileFromImageDir: true,
          checkBacking: (_resolved, overlay) => {
            seen.push(describeLayer(overlay, seen.length));
          },
          ...(options.guardFile === undefined ? {} : { guardFile: options.guardFile }),
        });
      };
      chain = staged === undefined ? open() : await staged.run(open);
    } catch (error) {
      return { kind: 'failed', layers: seen, ...failure(error), depth: seen.length };
    }
    const sink = options.sink(chain);
    try {
      const failed = await walk(chain, sink, options.signal);
      if (failed !== null) {
        sink.abort();
        return { kind: 'failed', layers: chain.layers, ...failure(failed.error), depth: null };
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
      staged?.closeAll();
    }
  }
}
