/**
 * The disk sources a libvirt domain XML names: every `<source>` of a
 * `<disk>` — its own, those of its nested `<backingStore>` chain and of a
 * `<mirror>` (a block copy in progress, also spelt `<mirror file=...>`) —
 * by its `file` (file disks) or `dev` (block disks) attribute, entities
 * decoded. Network and volume
 * disks name no host path and are skipped.
 *
 * A small tokenizer rather than an XML dependency: domain XML is written
 * by libvirt (no namespaces on these elements, no external entities), and
 * we need attributes of a few elements in context, nothing more. It skips
 * comments, CDATA, processing instructions and the DOCTYPE, honours both
 * quote characters (a `>` inside a quoted value does not end the tag), and
 * keeps going past what it cannot parse, reporting it.
 */

/** What a domain XML names. */
export interface DiskSources {
  /** Decoded `file` / `dev` values, in document order (duplicates kept). */
  paths: string[];
  /** Why part of the document could not be read (truncated or malformed), or null. */
  problem: string | null;
}

/** Elements whose `<source>` children name a disk's host path. */
const SOURCE_PARENTS: ReadonlySet<string> = new Set(['disk', 'backingStore', 'mirror']);
/** Attributes of `<source>` that hold a host path. */
const PATH_ATTRIBUTES = ['file', 'dev'] as const;

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the five XML entities and character references; leaves anything else as written. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body] ?? whole;
  });
}

interface Tag {
  name: string;
  attributes: Map<string, string>;
  isClosing: boolean;
  isSelfClosing: boolean;
  /** Index just past the tag's `>`. */
  end: number;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isNameEnd = (c: string | undefined): boolean => c === undefined || isSpace(c) || c === '/' || c === '>' || c === '=';

/** Parses the tag starting at `xml[start] === '<'`; null when it is not terminated. */
function parseTag(xml: string, start: number): Tag | null {
  let i = start + 1;
  const isClosing = xml[i] === '/';
  if (isClosing) i++;
  const nameStart = i;
  while (!isNameEnd(xml[i])) i++;
  const name = xml.slice(nameStart, i);
  const attributes = new Map<string, string>();
  for (;;) {
    while (isSpace(xml[i])) i++;
    const c = xml[i];
    if (c === undefined) return null;
    if (c === '>') return { name, attributes, isClosing, isSelfClosing: false, end: i + 1 };
    if (c === '/' && xml[i + 1] === '>') return { name, attributes, isClosing, isSelfClosing: true, end: i + 2 };
    const attributeStart = i;
    while (!isNameEnd(xml[i])) i++;
    if (i === attributeStart) { // a stray '/' or '=': skip it
      i++;
      continue;
    }
    const attribute = xml.slice(attributeStart, i);
    while (isSpace(xml[i])) i++;
    if (xml[i] !== '=') continue; // an attribute without a value (not XML, but not ours to refuse)
    i++;
    while (isSpace(xml[i])) i++;
    const quote = xml[i];
    if (quote === '"' || quote === "'") {
      const close = xml.indexOf(quote, i + 1);
      if (close < 0) return null;
      attributes.set(attribute, decodeEntities(xml.slice(i + 1, close)));
      i = close + 1;
    } else { // unquoted: up to white space or the end of the tag
      const valueStart = i;
      while (xml[i] !== undefined && !isSpace(xml[i]) && xml[i] !== '>') i++;
      attributes.set(attribute, decodeEntities(xml.slice(valueStart, i)));
    }
  }
}

/** Index just past the markup declaration starting at `start` (`<!...>`, `<?...?>`), or -1. */
function skipDeclaration(xml: string, start: number): number {
  if (xml.startsWith('<!--', start)) {
    const end = xml.indexOf('-->', start + 4);
    return end < 0 ? -1 : end + 3;
  }
  if (xml.startsWith('<![CDATA[', start)) {
    const end = xml.indexOf(']]>', start + 9);
    return end < 0 ? -1 : end + 3;
  }
  if (xml.startsWith('<?', start)) {
    const end = xml.indexOf('?>', start + 2);
    return end < 0 ? -1 : end + 2;
  }
  // <!DOCTYPE ...> with an optional [internal subset], whose declarations hold '>'.
  let depth = 0;
  for (let i = start + 2; i < xml.length; i++) {
    const c = xml[i];
    if (c === '"' || c === "'") {
      const close = xml.indexOf(c, i + 1);
      if (close < 0) return -1;
      i = close;
    } else if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '>' && depth <= 0) return i + 1;
  }
  return -1;
}

/** The host paths the disks of a libvirt domain XML document name. */
export function libvirtDiskSources(xml: string): DiskSources {
  const paths: string[] = [];
  const stack: string[] = [];
  let problem: string | null = null;
  let diskDepth = 0; // open <disk> elements
  for (let i = xml.indexOf('<'); i >= 0; i = xml.indexOf('<', i)) {
    if (xml[i + 1] === '!' || xml[i + 1] === '?') {
      const end = skipDeclaration(xml, i);
      if (end < 0) {
        problem = `unterminated markup declaration at offset ${i}`;
        break;
      }
      i = end;
      continue;
    }
    const tag = parseTag(xml, i);
    if (tag === null) {
      problem = `unterminated tag at offset ${i}`;
      break;
    }
    i = tag.end;
    if (tag.isClosing) {
      const at = stack.lastIndexOf(tag.name);
      if (at < 0) continue; // a stray end tag
      for (const closed of stack.splice(at)) if (closed === 'disk') diskDepth--;
      continue;
    }
    const parent = stack[stack.length - 1];
    const isDiskSource = tag.name === 'source' && parent !== undefined && SOURCE_PARENTS.has(parent);
    // <mirror file='...'> is the older spelling of a block copy's destination.
    if (diskDepth > 0 && (isDiskSource || tag.name === 'mirror')) {
      for (const attribute of tag.name === 'mirror' ? ['file'] : PATH_ATTRIBUTES) {
        const value = tag.attributes.get(attribute);
        if (value !== undefined && value !== '') paths.push(value);
      }
    }
    if (!tag.isSelfClosing) {
      stack.push(tag.name);
      if (tag.name === 'disk') diskDepth++;
    }
  }
  return { paths, problem };
}
