/**
 * What a scan found under each root: the candidates it looked at and the
 * images among them, so that a root under which nothing was an image (a
 * wrong path, a platform whose volumes carry no extension) is a finding
 * rather than a silent run of zero images.
 */
export interface EmptyRoot {
  root: string;
  /** Files looked at under the root (none of them an image). */
  candidates: number;
}

export class RootTally {
  private readonly counts = new Map<string, { candidates: number; images: number }>();

  constructor(roots: readonly string[]) {
    for (const root of roots) this.counts.set(root, { candidates: 0, images: 0 });
  }

  /** The root could not be crawled: it has its own finding. */
  unreadable(root: string): void {
    this.counts.delete(root);
  }

  candidate(root: string): void {
    const count = this.counts.get(root);
    if (count !== undefined) count.candidates++;
  }

  image(root: string): void {
    const count = this.counts.get(root);
    if (count !== undefined) count.images++;
  }

  /** The crawlable roots under which no image was found, in the order given. */
  empty(): EmptyRoot[] {
    return [...this.counts].filter(([, count]) => count.images === 0).map(([root, count]) => ({ root, candidates: count.candidates }));
  }
}
