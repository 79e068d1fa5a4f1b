/**
 * Backing file names resolved the way QEMU 7.2 resolves them (block.c,
 * paraphrased): absolute names and names with a protocol prefix are used
 * verbatim; others are relative to the directory *string* of the overlay's
 * name as it was opened, without normalisation (`a/sub/../b.qcow2` stays).
 */

/** True when the name starts with `proto:` (a ':' before any '/'). */
export function hasProtocol(name: string): boolean {
  const colon = name.indexOf(':');
  if (colon < 0) return false;
  const slash = name.indexOf('/');
  return slash < 0 || colon < slash;
}

/** The protocol prefix of a name (`json`, `nbd`, `file`...), or null. */
export function protocolOf(name: string): string | null {
  return hasProtocol(name) ? name.slice(0, name.indexOf(':')) : null;
}

/** Resolves `backingName` against the overlay's name as opened. */
export function resolveBackingName(overlayName: string, backingName: string): string {
  if (backingName.startsWith('/') || hasProtocol(backingName)) return backingName;
  const slash = overlayName.lastIndexOf('/');
  return slash < 0 ? backingName : overlayName.slice(0, slash + 1) + backingName;
}
