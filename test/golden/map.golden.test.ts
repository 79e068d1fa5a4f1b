// Golden tier for `imgaudit map`: every case in test/golden/cases/ holds the
// images of a scenario (as a sparse container, see test/support/sparse.ts)
// and the stdout/stderr/exit code that real qemu-img 7.2 produced for a list
// of map invocations (regenerate with `npm run golden:update`). This test
// recreates the images in a temp dir and checks that `node dist/cli.js` with
// the same arguments, in the same working directory, prints exactly the same.
// No QEMU needed.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blocksOf, materializeCase, type SparseManifest } from "../support/sparse.js";

interface Run {
  args: string[];
  qemuArgs?: string[];
  cwd: string;
  stdout: string;
  stderr: string;
  exitCode: number;
}

interface Expected {
  qemuImgVersion: string;
  description: string;
  materializedBlocks: Record<string, number>;
  runs: Run[];
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// LIVE_CLI points at another build of the CLI, as in the live tier (test/live/differential.ts).
const cli = process.env.LIVE_CLI ? path.resolve(process.env.LIVE_CLI) : path.join(repo, "dist", "cli.js");
const casesRoot = path.join(repo, "test", "golden", "cases");
const RUN_TIMEOUT_MS = 120_000;

const caseNames = fs.existsSync(casesRoot)
  ? fs.readdirSync(casesRoot).filter((d) => fs.existsSync(path.join(casesRoot, d, "expected.json"))).sort()
  : [];

/**
 * Fingerprint of every file: size, mtime, st_blocks and the bytes of its data
 * extents. Deliberately never reads holes or fallocated ranges: on ext4,
 * reading an unwritten extent puts uptodate pages in the page cache and
 * SEEK_DATA then reports that range as data, which would change later maps.
 * Anything written outside the data extents changes mtime and st_blocks.
 */
function fingerprint(dir: string, manifest: SparseManifest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of manifest.files) {
    const file = path.join(dir, f.path);
    const st = fs.statSync(file);
    const h = createHash("sha256").update(`${st.size}:${st.mtimeMs}:${st.blocks}:`);
    const fd = fs.openSync(file, "r");
    try {
      for (const [offset, length] of f.data) {
        const buf = Buffer.alloc(Math.min(length, 8 << 20));
        for (let done = 0; done < length; ) {
          const n = fs.readSync(fd, buf, 0, Math.min(buf.length, length - done), offset + done);
          if (n === 0) break;
          h.update(buf.subarray(0, n));
          done += n;
        }
      }
    } finally {
      fs.closeSync(fd);
    }
    out[f.path] = h.digest("hex");
  }
  return out;
}

/** Every path under dir (to notice files the CLI might create). */
function listTree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

function title(run: Run): string {
  const cd = run.cwd === "." ? "" : `(cd ${run.cwd}) `;
  return `${cd}imgaudit ${run.args.join(" ")}`;
}

it("has golden cases", () => {
  expect(caseNames.length, `no cases in ${casesRoot}; run npm run golden:update`).toBeGreaterThan(0);
});

for (const name of caseNames) {
  const caseDir = path.join(casesRoot, name);
  const expected = JSON.parse(fs.readFileSync(path.join(caseDir, "expected.json"), "utf8")) as Expected;

  describe(`golden ${name}`, () => {
    let work = "";
    let manifest: SparseManifest;
    let before: Record<string, string>;
    let treeBefore: string[];

    beforeAll(() => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), `imgaudit-golden-${name}-`));
      manifest = materializeCase(caseDir, work);
      before = fingerprint(work, manifest);
      treeBefore = listTree(work);
    });

    afterAll(() => {
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("materialized files have the recorded st_blocks", () => {
      // qcow2 metadata-preallocation detection depends on st_blocks; if this
      // fails the file system differs from the one the fixtures were made on.
      // One ext4 extent-tree block (8 sectors) of slack: the generator saw
      // identical qemu-img maps across exactly that difference.
      const actual = blocksOf(work, manifest);
      expect(Object.keys(actual).sort()).toEqual(Object.keys(expected.materializedBlocks).sort());
      for (const [file, blocks] of Object.entries(expected.materializedBlocks)) {
        const got = actual[file] ?? -1;
        expect(Math.abs(got - blocks), `${file}: st_blocks ${got}, recorded ${blocks}`).toBeLessThanOrEqual(8);
      }
    });

    for (const run of expected.runs) {
      it(title(run), () => {
        if (!fs.existsSync(cli)) throw new Error(`${cli} not found: run \`npm run build\` first`);
        const r = spawnSync(process.execPath, [cli, ...run.args], {
          cwd: path.join(work, run.cwd),
          encoding: "utf8",
          env: { ...process.env, LC_ALL: "C", LANG: "C" },
          timeout: RUN_TIMEOUT_MS,
          maxBuffer: 64 << 20,
        });
        if (r.error) throw r.error;
        expect({ stdout: r.stdout, stderr: r.stderr, exitCode: r.status }).toEqual({
          stdout: run.stdout,
          stderr: run.stderr,
          exitCode: run.exitCode,
        });
      }, RUN_TIMEOUT_MS + 10_000);
    }

    it("leaves the images unchanged", () => {
      expect(listTree(work)).toEqual(treeBefore);
      expect(fingerprint(work, manifest)).toEqual(before);
    });
  });
}
