/**
 * The findings a scan records, with their stable codes and severities:
 *
 * | code | severity | when |
 * |---|---|---|
 * | map engine codes (`E_OPEN`, `E_CORRUPT`, `E_UNSUPPORTED`, `E_CHAIN_LOOP`, ...) | error | the chain could not be mapped |
 * | `E_BACKING_MISSING` | error | a backing file does not exist |
 * | `E_BACKING_OUTSIDE_ROOTS` | error | a backing file lies outside the roots and is not followed |
 * | `E_FILE_OUTSIDE_ROOTS` | error | a qcow2 data file or vmdk extent lies outside the roots and is not followed |
 * | `E_NOT_REGULAR` | error | a backing file, data file or extent is not a regular file (a FIFO, a device): never opened |
 * | `E_ROOT_MISSING`, `E_ROOT_NOT_DIRECTORY` | error | a configured root cannot be crawled (the run ends `failed`) |
 * | `E_DIR_UNREADABLE` | error | a directory under a root cannot be read (the run ends `failed`) |
 * | `E_NAME_NOT_UTF8` | - | no longer given: names are bytes and are audited (io/byte-path.ts); earlier runs may hold it |
 * | `E_ROOT_NO_IMAGES` | warning | no file under a root is a disk image (a root that is a regular file but no image, too) |
 * | `E_ROOT_IGNORED` | info | a root lies inside another root (its files are audited once) |
 * | `E_SNAPSHOT_TABLE` | error | a qcow2 snapshot table QEMU refuses ("Too much extra metadata..."); mapped anyway |
 * | `E_IMAGE_CHANGED` | warning | the chain kept changing while it was mapped (figures are unstable) |
 * | `E_IMAGE_DIRTY` | warning | a layer was not closed cleanly: qcow2 dirty bit, qed need-check bit, parallels in-use mark |
 * | `E_IMAGE_CORRUPT` | warning | a qcow2 layer has its corrupt bit set |
 * | `E_NOT_AN_IMAGE` | warning | a file named like an image of a format with magic has none |
 * | `E_CANDIDATE_UNREADABLE` | warning | a file not named like an image cannot be read: whether it is one is unknown |
 * | `E_FORMAT_MISMATCH` | info | the extension promises another format than the magic says |
 * | `E_LAYER_FIGURES` | warning | a layer's own allocation, a chain's layer figures or a base sharing could not be computed |
 * | `E_REFERENCE_UNREADABLE` | warning | a configured reference source (libvirt domain directory or XML, path list) cannot be read |
 * | `E_REFERENCE_INVALID` | warning | a reference source is malformed or names a path that is not absolute (ignored) |
 */
import type { FailOn, Severity } from '../config/config.js';
import type { ChainLayerInfo } from '../map/image-chain.js';
import type { FindingRecord } from '../store/records.js';

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 3, warning: 2, info: 1 };

/** True when a finding of `severity` reaches the `failOn` threshold. */
export function reachesThreshold(severity: Severity, failOn: FailOn): boolean {
  return failOn !== 'never' && SEVERITY_RANK[severity] >= SEVERITY_RANK[failOn];
}

/** The finding of a chain that could not be mapped. */
export function mappingErrorFinding(
  failed: { code: string; message: string; errno: string | null; depth: number | null },
): FindingRecord {
  const isMissingBacking = failed.code === 'E_OPEN' && failed.errno === 'ENOENT' && (failed.depth ?? 0) >= 1;
  return {
    code: isMissingBacking ? 'E_BACKING_MISSING' : failed.code,
    severity: 'error',
    depth: failed.depth,
    message: failed.message,
  };
}

/** What the `dirty` flag of a layer means, by format. */
function dirtyMessage(layer: ChainLayerInfo): string {
  switch (layer.format) {
    case 'qed':
      return `${layer.filename}: the need-check bit is set (not closed cleanly; QEMU checks it when it opens it read-write: qemu-img check -r all)`;
    case 'parallels':
      return `${layer.filename}: the in-use mark is set (not closed cleanly; QEMU refuses to open it read-write until qemu-img check -r all repairs it)`;
    default:
      return `${layer.filename}: the dirty bit is set (refcounts may need a repair: qemu-img check -r leaks)`;
  }
}

/** Findings about the layers' headers (dirty: qcow2 dirty bit, qed need-check, parallels in-use; qcow2 corrupt bit). */
export function layerFindings(layers: readonly ChainLayerInfo[]): FindingRecord[] {
  const findings: FindingRecord[] = [];
  for (const layer of layers) {
    if (layer.flags.includes('dirty')) {
      findings.push({ code: 'E_IMAGE_DIRTY', severity: 'warning', depth: layer.depth, message: dirtyMessage(layer) });
    }
    if (layer.flags.includes('corrupt')) {
      findings.push({ code: 'E_IMAGE_CORRUPT', severity: 'warning', depth: layer.depth,
        message: `${layer.filename}: the corrupt bit is set (QEMU opens it read-only only)` });
    }
    if (layer.flags.includes('snapshot_table_invalid')) {
      findings.push({ code: 'E_SNAPSHOT_TABLE', severity: 'error', depth: layer.depth,
        message: `${layer.filename}: QEMU refuses to open this image: its internal snapshot table breaks QEMU's limits `
          + '("Too much extra metadata in snapshot table entry N" or "Snapshot table is too big"); imgaudit mapped it anyway' });
    }
  }
  return findings;
}

/** The finding of a file whose extension promises another format than its magic says, if so. */
export function formatMismatchFinding(path: string, format: string, promised: string | null): FindingRecord | null {
  if (promised === null || promised === format) return null;
  return { code: 'E_FORMAT_MISMATCH', severity: 'info', depth: 0,
    message: `${path}: named like a ${promised} image but its format is ${format}` };
}

/** The finding of a file named like an image of a format with magic that has none. */
export function notAnImageFinding(path: string, promised: string | null): FindingRecord | null {
  if (promised === null || promised === 'raw') return null;
  return { code: 'E_NOT_AN_IMAGE', severity: 'warning', depth: null,
    message: `${path}: named like a ${promised} image but has no known magic; not audited` };
}

/** The finding of a file not named like an image that cannot be read to tell whether it is one. */
export function unreadableCandidateFinding(path: string, reason: string): FindingRecord {
  return { code: 'E_CANDIDATE_UNREADABLE', severity: 'warning', depth: null,
    message: `${reason}; whether it is a disk image is unknown (not audited)` };
}

/** The finding of a root under which no file is a disk image. */
export function noImagesFinding(root: string, candidates: number): FindingRecord {
  const looked = candidates === 1 ? '1 file looked at' : `${candidates} files looked at`;
  return { code: 'E_ROOT_NO_IMAGES', severity: 'warning', depth: null,
    message: `${root}: no disk image under this root (${looked}); check the root, include and rawPatterns, `
      + 'or scan with the --preset of the platform (libvirt, openstack, ovirt, proxmox)' };
}

/** The finding of a chain that kept changing while it was mapped. */
/** A chain mapped while a process held its image for writing (QEMU's lock bytes): the map may already be stale. */
export function inUseFinding(path: string): FindingRecord {
  return { code: 'E_IMAGE_IN_USE', severity: 'info', depth: null,
    message: `${path}: mapped while another process held it open for writing (a running VM?); its map may already be stale` };
}

export function unstableFinding(path: string, attempts: number): FindingRecord {
  return { code: 'E_IMAGE_CHANGED', severity: 'warning', depth: null,
    message: `${path}: changed while it was mapped (${attempts} attempts); its figures may be inconsistent` };
}
