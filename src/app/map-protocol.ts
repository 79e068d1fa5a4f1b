/**
 * The messages between the scan (main thread, the single writer) and its
 * map workers (map-worker.ts). A request names one chain; the worker answers
 * with one `attempt` per attempt at mapping it (the chain changed meanwhile:
 * the writer drops what it stored of the previous attempt), the entries in
 * `block`s of compact columns (transferred, acknowledged one by one: at most
 * MAX_UNACKED_BLOCKS per worker are in flight), and one `done` with the
 * candidate's classification (by magic, read in the worker: the file is
 * opened once) and, for an image, the outcome with the map's content hash
 * and its per-depth sums (with the map's last block: one message less per
 * chain, most maps being one block).
 */
import type { HostExtentMap } from '../io/extents.js';
import type { ChainLayerInfo } from '../map/image-chain.js';
import type { EntryColumns } from '../map/entry-block.js';
import type { CategoryBytes } from '../map/category-bytes.js';
import type { Classification } from '../crawl/classify.js';
import type { MapChainOutcome } from '../crawl/map-chain.js';

/** Blocks a worker sends before it waits for the writer to acknowledge one. */
export const MAX_UNACKED_BLOCKS = 4;

/** Main → worker: map one chain (a worker maps several at once, each waiting on its reads in turn). */
export interface MapRequest {
  kind: 'map';
  /** Names the chain in the worker's messages. */
  id: number;
  file: string;
  maxDepth: number;
  changeRetries: number;
  /** The backing policy (app/backing-policy.ts) is rebuilt in the worker from these. */
  roots: readonly string[];
  followBackingOutsideRoots: boolean;
  /** Whether the candidate's name matches the raw patterns (a file without magic is then raw). */
  isRawName: boolean;
}

/** Main → worker: the extent map of a file (FIEMAP, for the post-scan pass). */
export interface ExtentsRequest {
  kind: 'extents';
  id: number;
  path: string;
}

/** Main → worker: a block was stored. */
export interface BlockAck {
  kind: 'ack';
}

/** What a worker computed of a mapped chain besides its entries. */
export interface MapSummary {
  digest: string;
  entryCount: number;
  depthTotals: CategoryBytes[];
  unallocatedBytes: number;
}

/** Worker → main. */
export type WorkerMessage =
  | { kind: 'attempt'; id: number; virtualSizeBytes: number; layers: readonly ChainLayerInfo[] }
  | { kind: 'block'; id: number; columns: EntryColumns }
  | { kind: 'done'; id: number; classification: Classification; outcome: MapChainOutcome<MapSummary> | null;
      /** A mapped chain's last block (not acknowledged); its layers are the last attempt's, not repeated here. */
      last: EntryColumns | null }
  | { kind: 'extents'; id: number; extents: HostExtentMap | null; error: { code: string; message: string } | null };
