/**
 * A small validator for the JSON contracts of SPEC §2.3 (report) and §2.4
 * (diff): every object must have exactly the listed keys, every value the
 * listed type; bytes are safe integers. Returns the list of violations.
 */

type Check = (value: unknown, at: string) => string[];

const ok: string[] = [];
const fail = (at: string, what: string, value: unknown): string[] => [`${at}: expected ${what}, got ${JSON.stringify(value)}`];

export const int: Check = (v, at) => (Number.isSafeInteger(v) ? ok : fail(at, 'an integer', v));
export const nonNegativeInt: Check = (v, at) => (Number.isSafeInteger(v) && (v as number) >= 0 ? ok : fail(at, 'an integer >= 0', v));
export const str: Check = (v, at) => (typeof v === 'string' ? ok : fail(at, 'a string', v));
export const bool: Check = (v, at) => (typeof v === 'boolean' ? ok : fail(at, 'a boolean', v));
export const absolutePath: Check = (v, at) => (typeof v === 'string' && v.startsWith('/') ? ok : fail(at, 'an absolute path', v));
export const isoTime: Check = (v, at) =>
  (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v) ? ok : fail(at, 'an ISO 8601 UTC time', v));
export const oneOf = (...choices: string[]): Check => (v, at) =>
  (typeof v === 'string' && choices.includes(v) ? ok : fail(at, `one of ${choices.join('|')}`, v));
export const nullOr = (check: Check): Check => (v, at) => (v === null ? ok : check(v, at));
export const arrayOf = (check: Check): Check => (v, at) =>
  (Array.isArray(v) ? v.flatMap((item, i) => check(item, `${at}[${i}]`)) : fail(at, 'an array', v));

export const object = (shape: Record<string, Check>): Check => (v, at) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(at, 'an object', v);
  const keys = Object.keys(v);
  const errors: string[] = [];
  const expected = Object.keys(shape);
  const extra = keys.filter((k) => !expected.includes(k));
  const missing = expected.filter((k) => !keys.includes(k));
  if (extra.length > 0) errors.push(`${at}: unexpected keys ${extra.join(', ')}`);
  if (missing.length > 0) errors.push(`${at}: missing keys ${missing.join(', ')}`);
  for (const key of expected) if (keys.includes(key)) errors.push(...shape[key]!((v as Record<string, unknown>)[key], `${at}.${key}`));
  return errors;
};

export const RUN = object({
  id: nonNegativeInt, startedAt: isoTime, finishedAt: nullOr(isoTime),
  status: oneOf('complete', 'interrupted', 'failed', 'running'), roots: arrayOf(absolutePath),
  imageCount: nonNegativeInt, errorCount: nonNegativeInt,
});

export const DEPTH = object({ depth: nonNegativeInt, data: nonNegativeInt, zero: nonNegativeInt, preallocated: nonNegativeInt });
export const DEPTH_DELTA = object({ depth: nonNegativeInt, data: int, zero: int, preallocated: int });

function IMAGE_SHAPE(): Record<string, Check> {
  return {
    path: absolutePath, format: str, virtualSize: nullOr(nonNegativeInt), diskUsage: nonNegativeInt, backing: nullOr(str),
    chainLength: nonNegativeInt, byDepth: arrayOf(DEPTH), unallocated: nullOr(nonNegativeInt),
    error: nullOr(object({ code: str, message: str })),
    // Who held the image open when the run saw it (QEMU's lock bytes).
    inUse: nullOr(oneOf('write', 'read')),
  };
}

/** An image of SPEC §2.3 (as diff's added and removed images carry it). */
export const IMAGE = object(IMAGE_SHAPE());

export const num: Check = (v, at) => (typeof v === 'number' && Number.isFinite(v) ? ok : fail(at, 'a finite number', v));
export const isoDate: Check = (v, at) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? ok : fail(at, 'a date YYYY-MM-DD', v));

const CATEGORIES = object({ data: nonNegativeInt, zero: nonNegativeInt, preallocated: nonNegativeInt });

/** One layer of an image's chain (`images[].chain[]`). */
export const LAYER = object({
  depth: nonNegativeInt, path: absolutePath, format: str, diskUsage: nonNegativeInt,
  own: nullOr(CATEGORIES), trueOwn: nullOr(CATEGORIES), visible: nullOr(CATEGORIES), shadowed: nullOr(CATEGORIES),
});

/** An image of the report: the SPEC §2.3 keys plus its layers, reclaim and growth figures. */
export const REPORT_IMAGE = object({
  ...(IMAGE_SHAPE()),
  chain: arrayOf(LAYER),
  reclaim: nullOr(object({
    deleteFrees: nonNegativeInt, commitGrowth: nullOr(int), commitFrees: nullOr(int), commitGrowthMin: nullOr(int),
    commitGrowthMax: nullOr(int), commitDataGrowth: nullOr(int), commitEndGrowthMin: nullOr(int), commitEndGrowthMax: nullOr(int),
  })),
  growthPerDay: nullOr(int),
});

export const BASE = object({
  path: absolutePath, format: str, diskUsage: nonNegativeInt, own: nullOr(CATEGORIES), overlayCount: nonNegativeInt,
  read: nonNegativeInt, shared: nonNegativeInt, unread: nonNegativeInt,
  overlays: arrayOf(object({ path: absolutePath, read: nonNegativeInt, unique: nonNegativeInt })),
});

export const FILESYSTEM = object({
  roots: arrayOf(absolutePath), dev: nonNegativeInt, capacity: nonNegativeInt, free: nonNegativeInt, available: nonNegativeInt,
  virtualSize: nonNegativeInt, diskUsage: nonNegativeInt, overcommitRatio: nullOr(num), growthPerDay: nullOr(int),
  fillsAt: nullOr(isoDate), daysToFull: nullOr(num),
});

/** SPEC §2.3, with every key kept, plus bases, file systems and the images' layers. */
export const REPORT = object({
  run: RUN,
  totals: object({ virtualSize: nonNegativeInt, diskUsage: nonNegativeInt, unallocated: nonNegativeInt, byDepth: arrayOf(DEPTH) }),
  images: arrayOf(REPORT_IMAGE),
  bases: arrayOf(BASE),
  filesystems: arrayOf(FILESYSTEM),
});

const FROM_TO = object({ from: nullOr(nonNegativeInt), to: nullOr(nonNegativeInt) });

/** SPEC §2.4. */
export const DIFF = object({
  from: RUN, to: RUN, added: arrayOf(IMAGE), removed: arrayOf(IMAGE),
  changed: arrayOf(object({ path: absolutePath, virtualSize: FROM_TO, diskUsage: FROM_TO, byDepth: arrayOf(DEPTH_DELTA), backingChanged: bool })),
  totals: object({ byDepth: arrayOf(DEPTH_DELTA), diskUsage: int, virtualSize: int }),
});

/** `imgaudit check --format json`. */
export const CHECK = object({
  run: RUN, failOn: oneOf('error', 'warning', 'info', 'never'),
  counts: object({ error: nonNegativeInt, warning: nonNegativeInt, info: nonNegativeInt }), failing: nonNegativeInt,
  findings: arrayOf(object({ code: str, severity: oneOf('error', 'warning', 'info'), path: str, depth: nullOr(nonNegativeInt), message: str })),
});

/** `imgaudit runs --format json`. */
export const RUNS = object({
  runs: arrayOf(object({
    id: nonNegativeInt, startedAt: isoTime, finishedAt: nullOr(isoTime), status: oneOf('complete', 'interrupted', 'failed', 'running'),
    roots: arrayOf(absolutePath), imageCount: nonNegativeInt, errorCount: nonNegativeInt, newCount: nonNegativeInt,
    changedCount: nonNegativeInt, virtualSize: nonNegativeInt, diskUsage: nonNegativeInt, data: nonNegativeInt,
    zero: nonNegativeInt, preallocated: nonNegativeInt, unallocated: nonNegativeInt,
    findings: object({ error: nonNegativeInt, warning: nonNegativeInt, info: nonNegativeInt }),
  })),
});

/** The violations of `value` against `check` (empty: valid). */
export function violations(value: unknown, check: Check): string[] {
  return check(value, '$');
}
