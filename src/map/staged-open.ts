/**
 * Opening a chain without blocking the thread. The chain opener and the
 * format drivers are synchronous; here they run with every file in replay
 * mode (HostFile.replayOpen): a read that is not staged, or a file that is
 * not open yet, stops the open with NotStaged. That read is then made (or
 * that file opened, its head read) asynchronously, and the open runs again
 * from the start, finding ready what it read before. So the first reads of
 * a chain (each layer's header, its L1 table, its backing file) wait on the
 * storage while the thread maps other chains. A replay re-parses headers
 * already read (microseconds); no byte is read twice. After MAX_REPLAYS
 * the open runs once more with synchronous reads (same result, only
 * blocking). Where this thread's reads come from the page cache, and for
 * one open in PROBE_EVERY (which measures that), the open reads
 * synchronously instead.
 */
import { HostFile, NotStaged, readsWait } from '../io/host-file.js';

/** Runs of one open at most, before it reads synchronously. */
export const MAX_REPLAYS = 256;

/** One open in this many reads synchronously, to measure the storage (io/host-file.ts readsWait). */
export const PROBE_EVERY = 32;
let opensSinceProbe = PROBE_EVERY - 1;

/** A file the open asked for: opened, or the error its open gave. */
type Opened = { file: HostFile } | { error: unknown };

/** The identity a guard approved (OpenedFiles): the file opened must be that one, named by its real path. */
export interface ApprovedIdentity {
  recordAs: string;
  dev: number;
  ino: number;
}

/** The files of one chain's open, opened asynchronously and kept across its replays. */
export class StagedOpen {
  private readonly opened = new Map<string, Opened>();
  private replaying: boolean;
  /** How many times the open ran again (for tests). */
  replays = 0;

  /**
   * `top`: the image's own file, already opened (HostFile.openAsync).
   * `replay`: where this thread's reads come from the page cache, the open
   * runs with plain synchronous reads (the hops would cost more).
   */
  constructor(private readonly top: { name: string; file: HostFile }, options: { replay?: boolean; maxReplays?: number } = {}) {
    // Every PROBE_EVERY-th open (the first included) reads synchronously: its read times tell readsWait what the storage does.
    const isProbe = ++opensSinceProbe >= PROBE_EVERY;
    if (isProbe) opensSinceProbe = 0;
    this.replaying = options.replay ?? (!isProbe && readsWait());
    this.maxReplays = options.maxReplays ?? MAX_REPLAYS;
    top.file.replayOpen(this.replaying);
  }

  private readonly maxReplays: number;

  /**
   * The file `name` for OpenedFiles: the top image's, or one opened before
   * this run of the open; otherwise NotStaged, which opens it. Files stay
   * open across runs (closeAll closes them).
   */
  take(name: string, role: 'image' | 'other', identity: ApprovedIdentity | undefined, isShared: boolean): HostFile {
    if (role === 'image' && name === this.top.name) return this.top.file;
    const key = `${isShared ? 's' : 'p'}:${identity === undefined ? '' : `${identity.dev}:${identity.ino}:${identity.recordAs}`}:${name}`;
    const opened = this.opened.get(key);
    if (opened !== undefined) {
      if ('error' in opened) throw opened.error;
      return opened.file;
    }
    const open = async (): Promise<void> => {
      try {
        const file = await HostFile.openAsync(name, identity, isShared);
        file.replayOpen(this.replaying);
        this.opened.set(key, { file });
      } catch (error) {
        this.opened.set(key, { error });
      }
    };
    if (!this.replaying) {
      // Past MAX_REPLAYS: open synchronously, as the plain open does.
      const file = HostFile.open(name, identity, isShared);
      this.opened.set(key, { file });
      return file;
    }
    throw new NotStaged(open);
  }

  private files(): HostFile[] {
    const files = [this.top.file];
    for (const opened of this.opened.values()) if ('file' in opened) files.push(opened.file);
    return files;
  }

  /**
   * Runs `open` until it no longer stops for a read or a file. Throws what
   * the open throws; then closes every file it opened (a successful open
   * owns them: closeAll when the chain is closed).
   */
  async run<T>(open: () => T): Promise<T> {
    try {
      for (;;) {
        try {
          const result = open();
          for (const file of this.files()) file.replayOpen(false);
          return result;
        } catch (error) {
          if (!(error instanceof NotStaged)) throw error;
          await error.ready();
          if (++this.replays >= this.maxReplays && this.replaying) {
            this.replaying = false;
            for (const file of this.files()) file.replayOpen(false);
          }
        }
      }
    } catch (error) {
      this.closeAll();
      throw error;
    }
  }

  closeAll(): void {
    for (const file of this.files()) file.close();
  }
}
