/**
 * Keeps a scan from auditing the extent files of the VMDK descriptors it
 * scans: they are part of the descriptor's image (its chain records them as
 * extra files, so their disk usage counts there, once) and not images of
 * their own. Which files are extents is known only once every descriptor
 * under the roots has been seen, and the crawl finds files in directory
 * order, so the candidates that can be extents wait until the crawl is over:
 * `*.vmdk` files (sparse and flat extents, and the descriptors themselves)
 * and files with raw names (flat extents of hand-written descriptors). All
 * other candidates are audited as they are found.
 *
 * A descriptor's extents come from its recorded chain when the descriptor
 * and its extent files are unchanged since the run a scan may reuse (no file
 * is opened, as for the reused map itself), otherwise from reading its
 * extent lines. Files are compared by (dev, ino), so an extent named through
 * another spelling of its path is still recognised.
 */
import path from 'node:path';
import type { Candidate } from '../crawl/crawler.js';
import { areAllUnchanged, statIdentity } from '../crawl/file-identity.js';
import { descriptorExtentPaths, isVmdkName } from '../crawl/vmdk-extents.js';
import type { AuditContext } from './audit-image.js';

const keyOf = (file: { dev: number; ino: number }): string => `${file.dev}:${file.ino}`;

/** A held candidate once the crawl is over: audit it, or skip it as a descriptor's extent. */
export interface ReleasedCandidate {
  candidate: Candidate;
  isExtent: boolean;
}

export class ExtentSieve {
  private readonly held: Candidate[] = [];

  constructor(private readonly context: Pick<AuditContext, 'store' | 'reuseRunId' | 'isRawName'>) {}

  /** True when `candidate` must wait for the end of the crawl (it is then kept here). */
  hold(candidate: Candidate): boolean {
    if (!isVmdkName(candidate.path) && !this.context.isRawName(candidate.relativePath)) return false;
    this.held.push(candidate);
    return true;
  }

  /** The held candidates, in the order found, each marked when a scanned descriptor names it as an extent. */
  release(): ReleasedCandidate[] {
    const held = this.held.splice(0);
    const extents = new Set<string>();
    const unread: Candidate[] = [];
    for (const candidate of held) {
      if (!isVmdkName(candidate.path)) continue;
      const recorded = this.recordedExtents(candidate);
      if (recorded === null) unread.push(candidate);
      else for (const key of recorded) extents.add(key);
    }
    for (const candidate of unread) {
      const own = statIdentity(candidate.path);
      if (own === null || extents.has(keyOf(own))) continue; // gone, or an extent: not a descriptor to read
      for (const name of descriptorExtentPaths(candidate.path) ?? []) {
        const extent = statIdentity(name);
        if (extent !== null && keyOf(extent) !== keyOf(own)) extents.add(keyOf(extent));
      }
    }
    if (extents.size === 0) return held.map((candidate) => ({ candidate, isExtent: false }));
    return held.map((candidate) => {
      const identity = statIdentity(candidate.path);
      return { candidate, isExtent: identity !== null && extents.has(keyOf(identity)) };
    });
  }

  /**
   * The extent files (dev:ino) that the reusable run recorded for the image
   * at `candidate` when it was mapped and none of its own files changed
   * since; null when that is not known without reading the file.
   */
  private recordedExtents(candidate: Candidate): string[] | null {
    const { reuseRunId, store } = this.context;
    if (reuseRunId === undefined) return null;
    const previous = store.chains.previousChain(reuseRunId, candidate.path);
    if (previous === undefined || !previous.isMapped) return null;
    const own = previous.files.filter((file) => file.depth === 0);
    const top = own.find((file) => file.path === path.resolve(candidate.path));
    if (top === undefined || !areAllUnchanged(own)) return null;
    return own.filter((file) => keyOf(file) !== keyOf(top)).map(keyOf);
  }
}
