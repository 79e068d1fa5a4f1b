/**
 * Small value parsers for configuration keys and flags. Each returns the
 * parsed value or says what was expected, so that the caller can name the
 * key or flag in its message.
 */

/** Either the parsed value or a description of what was expected. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

/**
 * A parser for one configuration value. `isText` is true for values from
 * command-line flags, which are strings: only then are numbers accepted as
 * digit strings (a config file says `4`, not `"4"`).
 */
export type Parser<T> = (value: unknown, isText: boolean) => Parsed<T>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(expected: string): Parsed<T> => ({ ok: false, expected });

/** A list of non-empty strings (at least `minItems`). */
export function stringList(minItems = 0): Parser<string[]> {
  const expected = `a list of non-empty strings${minItems > 0 ? ` (at least ${minItems})` : ''}`;
  return (value) => {
    if (!Array.isArray(value) || value.length < minItems) return bad(expected);
    if (!value.every((item) => typeof item === 'string' && item.length > 0)) return bad(expected);
    return ok([...(value as string[])]);
  };
}

/** A non-empty string. */
export const nonEmptyString: Parser<string> = (value) =>
  typeof value === 'string' && value.length > 0 ? ok(value) : bad('a non-empty string');

/** true or false. */
export const boolean: Parser<boolean> = (value) => (typeof value === 'boolean' ? ok(value) : bad('true or false'));

/** An integer in [min, max]; strings of digits are accepted (command-line flags). */
export function integer(min: number, max: number): Parser<number> {
  return (value, isText) => {
    const n = isText && typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return ok(n);
    return bad(`an integer from ${min} to ${max}`);
  };
}

/** One of the given strings. */
export function oneOf<T extends string>(choices: readonly T[]): Parser<T> {
  return (value) =>
    typeof value === 'string' && (choices as readonly string[]).includes(value)
      ? ok(value as T)
      : bad(`one of ${choices.map((c) => `"${c}"`).join(', ')}`);
}

/** `inner` or null. */
export function nullable<T>(inner: Parser<T>): Parser<T | null> {
  return (value, isText) => {
    if (value === null) return ok(null);
    const parsed = inner(value, isText);
    return parsed.ok ? parsed : bad(`${parsed.expected}, or null`);
  };
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/** The longest duration: any instant that far back is a valid date (JS dates span ±273,790 years). */
export const MAX_DURATION_MS = 1000 * DURATION_UNITS_MS.y!;

/** How messages describe a valid duration. */
export const DURATION_EXPECTED = 'a duration such as "36h", "90d", "12w" or "1y" (at most 1000y)';

/** Milliseconds of a duration such as `36h`, `90d`, `12w`, `2y`; null when malformed or longer than 1000 years. */
export function durationMs(text: string): number | null {
  const match = /^(\d{1,6})([hdwy])$/.exec(text);
  if (match === null) return null;
  const ms = Number(match[1]) * DURATION_UNITS_MS[match[2]!]!;
  return ms <= MAX_DURATION_MS ? ms : null;
}

/** A duration string accepted by `durationMs`. */
export const duration: Parser<string> = (value) =>
  typeof value === 'string' && durationMs(value) !== null ? ok(value) : bad(DURATION_EXPECTED);

/** A finite number greater than 0; numeric strings are accepted (command-line flags). */
export const positiveNumber: Parser<number> = (value, isText) => {
  const n = isText && typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? ok(n) : bad('a number greater than 0');
};
