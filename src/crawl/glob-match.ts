/**
 * Matching a relative path against glob patterns, for the raw patterns (the
 * crawler hands fast-glob the include/exclude patterns itself, but fast-glob
 * has no matcher of single paths). The dialect is fast-glob's common subset:
 * `**` (any number of path segments), `*` and `?` (within a segment),
 * `[...]` / `[!...]` classes and `{a,b}` alternatives. A test keeps both in step.
 */

function closingBrace(pattern: string, open: number): number {
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    if (pattern[i] === '{') depth++;
    else if (pattern[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function splitAlternatives(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '{') depth++;
    else if (body[i] === '}') depth--;
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

const escapeChar = (c: string): string => (/[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c);

function toRegexSource(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      const atStart = i === 0 || pattern[i - 1] === '/';
      if (atStart && pattern[i + 2] === '/') {
        out += '(?:[^/]*/)*';
        i += 2;
      } else if (atStart && i + 2 === pattern.length) {
        out += '.*';
        i += 1;
      } else {
        out += '[^/]*';
        i += 1;
      }
    } else if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `(?!/)[${body}]`;
      i = end;
    } else if (c === '{') {
      const end = closingBrace(pattern, i);
      if (end < 0) {
        out += '\\{';
        continue;
      }
      out += `(?:${splitAlternatives(pattern.slice(i + 1, end)).map(toRegexSource).join('|')})`;
      i = end;
    } else {
      out += escapeChar(c);
    }
  }
  return out;
}

/** A predicate: does a `/`-separated relative path match any of `patterns`? */
export function globMatcher(patterns: readonly string[]): (relativePath: string) => boolean {
  if (patterns.length === 0) return () => false;
  const regex = new RegExp(`^(?:${patterns.map(toRegexSource).join('|')})$`);
  return (relativePath) => regex.test(relativePath);
}
