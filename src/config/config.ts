/**
 * The scan configuration: its type, its defaults, and validation of a
 * partial configuration (from a file or from flags) with messages that name
 * the offending key. `config.example.json` documents every key.
 */
import { ConfigError } from './config-error.js';
import {
  type Parser, boolean, duration, integer, nonEmptyString, nullable, oneOf, positiveNumber, stringList,
} from './parsers.js';
import { PRESET_NAMES, type PresetName } from './presets.js';

/** How bad a finding is; the exit status follows a threshold over these. */
export type Severity = 'error' | 'warning' | 'info';
/** Exit-status threshold: findings at or above it make the exit status 1. */
export type FailOn = Severity | 'never';

/** What `prune` (and scan, after a complete run) keeps. */
export interface RetentionConfig {
  /** Keep the newest N complete runs (and everything newer); null keeps all. */
  keepRuns: number | null;
  /** Drop runs that started longer ago than this duration (`90d`); null keeps all. */
  olderThan: string | null;
}

/** Thresholds for findings. */
export interface CheckConfig {
  failOn: FailOn;
  /** `check` reports chains with more layers than this. */
  deepChainLayers: number;
  /** Warn when a root's file system is projected to fill within this many days. */
  fillWarningDays: number;
  /** Warn when the virtual sizes on a file system exceed its capacity by this factor. */
  overcommitRatio: number;
  /** Snapshots (qcow2 internal, or backing layers with one overlay) older than this duration are reported. */
  snapshotMaxAge: string;
  /** Orphans (unreferenced images, bases whose overlays vanished) unchanged for less than this are not reported. */
  orphanMinAge: string;
}

/** Where to learn which images are in use (to tell forgotten images from live ones). */
export interface ReferencesConfig {
  /** Directories of libvirt domain XML files (`/etc/libvirt/qemu`): every disk source they name is in use. */
  libvirtDomainDirs: string[];
  /** Text files listing image paths in use, one absolute path per line (`#` starts a comment). */
  pathLists: string[];
}

/** Bounds of `imgaudit query`. */
export interface QueryConfig {
  /** A query still running after this many seconds is stopped. */
  timeoutSeconds: number;
  /** Memory a query may use (heap of its process, and the rows it gathers). */
  maxMemoryMiB: number;
}

/** Shipping runs to a central PostgreSQL store (`imgaudit push`). */
export interface PushConfig {
  /** The central store, a postgres:// URL (better without a password: use ~/.pgpass); null: none. */
  database: string | null;
  /** Push after each complete scan (a failed push is a warning; the next push catches up). */
  afterScan: boolean;
}

/** The effective configuration of a scan (after defaults, file and flags). */
export interface ScanConfig {
  /** The platform whose layout sets the defaults of roots, include, exclude, rawPatterns (presets.ts); null: none. */
  preset: PresetName | null;
  /** Directories (or single image files) to audit; absolute after loading. */
  roots: string[];
  /** fast-glob patterns, relative to each root, of candidate files (their magic decides what is an image). */
  include: string[];
  /** fast-glob patterns, relative to each root, never visited. */
  exclude: string[];
  /** Candidates with no known magic count as raw images only when they match one of these. */
  rawPatterns: string[];
  /** SQLite database file; absolute after loading. */
  database: string;
  /** Chains mapped at once. */
  concurrency: number;
  /** Follow backing files outside the roots (otherwise the image is an error finding). */
  followBackingOutsideRoots: boolean;
  /** Refuse chains with more layers than this. */
  maxChainDepth: number;
  /** Times an image that changed while it was mapped is mapped again before it is recorded as unstable. */
  changeRetries: number;
  retention: RetentionConfig;
  check: CheckConfig;
  references: ReferencesConfig;
  query: QueryConfig;
  /** The name this host's runs carry (scan) and are pushed under; null: the host name. */
  host: string | null;
  push: PushConfig;
}

/** The defaults; `config.example.json` shows them and a test keeps the two equal. */
export const DEFAULT_CONFIG: Readonly<ScanConfig> = Object.freeze<ScanConfig>({
  preset: null,
  roots: [],
  // Every file is a candidate: its first sector tells an image from anything else.
  include: ['**/*'],
  exclude: [],
  rawPatterns: ['**/*.img', '**/*.raw'],
  database: 'imgaudit.db',
  // Chains mapped at once, on min(concurrency, CPUs) worker threads, each chain's
  // table reads issued together: more than the CPUs hides storage latency (NFS,
  // Ceph), and costs little where the CPU bounds (docs/scan.md, measured there).
  concurrency: 8,
  followBackingOutsideRoots: false,
  maxChainDepth: 64,
  changeRetries: 2,
  retention: { keepRuns: 400, olderThan: null },
  check: {
    failOn: 'error', deepChainLayers: 8, fillWarningDays: 30, overcommitRatio: 1.5, snapshotMaxAge: '30d', orphanMinAge: '7d',
  },
  references: { libvirtDomainDirs: [], pathLists: [] },
  query: { timeoutSeconds: 60, maxMemoryMiB: 512 },
  host: null,
  push: { database: null, afterScan: false },
});

/** A configuration with every key optional, as read from one source. */
export type PartialConfig = Partial<Omit<ScanConfig, 'retention' | 'check' | 'references' | 'query' | 'push'>> & {
  push?: Partial<PushConfig>;
  retention?: Partial<RetentionConfig>;
  check?: Partial<CheckConfig>;
  references?: Partial<ReferencesConfig>;
  query?: Partial<QueryConfig>;
};

type Shape = { [key: string]: Parser<unknown> | Shape };

const SHAPE: Shape = {
  preset: nullable(oneOf(PRESET_NAMES)),
  roots: stringList(),
  include: stringList(1),
  exclude: stringList(),
  rawPatterns: stringList(),
  database: nonEmptyString,
  concurrency: integer(1, 256),
  followBackingOutsideRoots: boolean,
  maxChainDepth: integer(1, 1024),
  changeRetries: integer(0, 100),
  retention: { keepRuns: nullable(integer(1, 1_000_000)), olderThan: nullable(duration) },
  check: {
    failOn: oneOf(['error', 'warning', 'info', 'never']), deepChainLayers: integer(1, 1024),
    fillWarningDays: integer(0, 100_000), overcommitRatio: positiveNumber, snapshotMaxAge: duration, orphanMinAge: duration,
  },
  references: { libvirtDomainDirs: stringList(), pathLists: stringList() },
  query: { timeoutSeconds: integer(1, 86_400), maxMemoryMiB: integer(64, 1_048_576) },
  host: nullable(nonEmptyString),
  push: { database: nullable(nonEmptyString), afterScan: boolean },
};

/** Keys that document a config file and are otherwise ignored. */
const DOC_KEYS = new Set(['_doc']);

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function suggestion(key: string, known: readonly string[]): string {
  const close = known.find((k) => k.toLowerCase() === key.toLowerCase() || distance(k, key) <= 2);
  return close === undefined ? '' : ` (did you mean '${close}'?)`;
}

/**
 * Validates one source of configuration. `name(keyPath)` says how to name a
 * key in messages (`'concurrency' in /etc/imgaudit.json`, `--concurrency`).
 * Throws ConfigError on the first unknown key or bad value.
 */
export function validateConfig(raw: unknown, name: (keyPath: string) => string, source = 'configuration',
  isText = false): PartialConfig {
  if (!isObject(raw)) throw new ConfigError(`${source}: expected a JSON object`);
  return validateShape(raw, SHAPE, '', name, isText) as PartialConfig;
}

/** A value as messages show it (JSON reads 1e400 as Infinity, which JSON.stringify shows as null). */
function shown(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return 'a number too large to represent';
  return JSON.stringify(value) ?? String(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validateShape(raw: unknown, shape: Shape, prefix: string, name: (keyPath: string) => string, isText: boolean): object {
  if (!isObject(raw)) throw new ConfigError(`${name(prefix.slice(0, -1))}: expected an object, got ${shown(raw)}`);
  // No prototype: a key such as `__proto__` (an own property after JSON.parse) stays data.
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) {
    if (prefix === '' && DOC_KEYS.has(key)) continue;
    // Own keys only: `constructor`, `toString` and `__proto__` are unknown keys, not Object's.
    const spec = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (spec === undefined) {
      throw new ConfigError(`${name(prefix + key)}: unknown key${suggestion(key, Object.keys(shape))}`);
    }
    if (typeof spec === 'function') {
      const parsed = spec(value, isText);
      if (!parsed.ok) throw new ConfigError(`${name(prefix + key)}: expected ${parsed.expected}, got ${shown(value)}`);
      out[key] = parsed.value;
    } else {
      out[key] = validateShape(value, spec, `${prefix}${key}.`, name, isText);
    }
  }
  return { ...out };
}

/** Applies `layers` over `base` in order (later layers win), key by key. */
export function mergeConfig(base: Readonly<ScanConfig>, ...layers: readonly PartialConfig[]): ScanConfig {
  let merged: ScanConfig = {
    ...base, retention: { ...base.retention }, check: { ...base.check }, references: { ...base.references },
    query: { ...base.query },
    push: { ...base.push },
  };
  for (const layer of layers) {
    merged = {
      ...merged,
      ...layer,
      retention: { ...merged.retention, ...layer.retention },
      check: { ...merged.check, ...layer.check },
      references: { ...merged.references, ...layer.references },
      query: { ...merged.query, ...layer.query },
      push: { ...merged.push, ...layer.push },
    };
  }
  return merged;
}
