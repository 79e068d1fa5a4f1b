/**
 * The flat option dictionary QEMU's block layer opens a node from: dotted
 * keys (`file.filename`, `backing.driver`) mapped to typed values, as
 * `--image-opts` strings (all strings) and flattened `json:` names (numbers,
 * booleans, null) produce it. Helpers read values the way QEMU does: a
 * reference or driver name only when it is a string, sizes and switches
 * through the value's string form (qemu_opts_absorb_qdict).
 */
export type OptValue =
  | { t: 'str'; v: string }
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'null' }
  /** An empty JSON object or array (qdict_flatten keeps those as they are). */
  | { t: 'empty' };

/** Keys in insertion order, as QEMU keeps them for everything but error order. */
export type FlatOptions = Map<string, OptValue | string>;

/** The typed form of a stored value (option strings store plain strings). */
export function typed(value: OptValue | string): OptValue {
  return typeof value === 'string' ? { t: 'str', v: value } : value;
}

/** C's printf("%.17g"), as QEMU prints a JSON float it converts to an option string. */
function g17(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'nan' : (n < 0 ? '-inf' : 'inf');
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const exponent = Math.floor(Math.log10(Math.abs(n)));
  if (exponent < -4 || exponent >= 17) {
    const [mantissa, exp] = n.toExponential(16).split('e');
    const trimmed = mantissa!.replace(/\.?0+$/, '');
    const e = Number(exp);
    return `${trimmed}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const fixed = n.toPrecision(17);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** The string QEMU makes of a scalar option value; null for null, empty containers. */
export function optionString(value: OptValue | string): string | null {
  const v = typed(value);
  switch (v.t) {
    case 'str': return v.v;
    case 'int': return v.v.toString();
    case 'float': return g17(v.v);
    case 'bool': return v.v ? 'on' : 'off';
    default: return null;
  }
}

/** The value when it is a string (qdict_get_try_str), else undefined. */
export function stringOption(options: FlatOptions, key: string): string | undefined {
  const value = options.get(key);
  if (value === undefined) return undefined;
  const v = typed(value);
  return v.t === 'str' ? v.v : undefined;
}

/** The options under `prefix.` with the prefix removed (qdict_extract_subqdict); they leave `options`. */
export function extractSubOptions(options: FlatOptions, prefix: string): FlatOptions {
  const sub: FlatOptions = new Map();
  for (const [key, value] of [...options]) {
    if (key.startsWith(`${prefix}.`)) {
      sub.set(key.slice(prefix.length + 1), value);
      options.delete(key);
    }
  }
  return sub;
}

/**
 * The key QEMU names first when it reports unsupported options: qdict_first
 * walks the hash buckets (tdb_hash % 512) in order, newest entry first.
 */
export function qdictFirstKey(keys: Iterable<string>): string | undefined {
  let best: { key: string; bucket: number; order: number } | undefined;
  let order = 0;
  for (const key of keys) {
    const bytes = Buffer.from(key, 'utf8');
    let value = Math.imul(0x238F13AF, bytes.length) >>> 0;
    for (let i = 0; i < bytes.length; i++) value = (value + ((bytes[i]! << ((i * 5) % 24)) >>> 0)) >>> 0;
    const hash = (Math.imul(1103515243, value) + 12345) >>> 0;
    const bucket = hash % 512;
    order++;
    if (best === undefined || bucket < best.bucket || (bucket === best.bucket && order > best.order)) {
      best = { key, bucket, order };
    }
  }
  return best?.key;
}
