#!/usr/bin/env node
// Regenerates the golden fixtures in test/golden/cases/ from real qemu-img.
//
//   npm run golden:update                 # all cases
//   npm run golden:update -- s19 s23      # only cases whose name contains one of the words
//   npm run golden:update -- --keep       # keep the scratch directories
//
// Needs qemu-img/qemu-io (Debian qemu-utils), python3 (scan_extents.py) and
// util-linux fallocate. For each case: run its setup snippet in a fresh
// scratch dir, scan the files (SEEK_DATA/SEEK_HOLE + FIEMAP), pack them into
// files.sparse.gz, record every map run, then materialize the container into a
// second dir and check that the data/hole layout and every qemu-img run are
// the same there (so the container is faithful on this file system). st_blocks
// of the copy may be a few blocks lower (fewer ext4 extent-tree blocks than the
// fragmented original): that is only printed as a note, and the copy's values
// are recorded as materializedBlocks, which the test checks.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import { cases } from "./defs/index.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const casesRoot = path.join(here, "cases");

/** Load test/support/sparse.ts (TypeScript) without a build step. */
async function loadSparse() {
  const src = fs.readFileSync(path.join(repo, "test/support/sparse.ts"), "utf8");
  const { code } = transformSync(src, { loader: "ts", format: "esm", target: "node20" });
  return import("data:text/javascript;base64," + Buffer.from(code).toString("base64"));
}

function run(cmd, args, cwd, opts = {}) {
  return spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, LC_ALL: "C", LANG: "C" },
    timeout: 600_000,
    maxBuffer: 64 << 20,
    ...opts,
  });
}

function scan(dir) {
  const r = run("python3", [path.join(here, "scan_extents.py"), dir], dir);
  if (r.status !== 0) throw new Error(`scan_extents.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Normalise a run spec: an args array or {args, qemuArgs?, cwd?, exit?}. */
function spec(r) {
  const s = Array.isArray(r) ? { args: r } : r;
  return { args: s.args, qemuArgs: s.qemuArgs ?? s.args, cwd: s.cwd ?? ".", exit: s.exit };
}

function mapRun(root, s) {
  const r = run("qemu-img", s.qemuArgs, path.join(root, s.cwd));
  if (r.error) throw r.error;
  return {
    stdout: r.stdout,
    stderr: r.stderr.replace(/^qemu-img: /gm, "imgaudit: "),
    exitCode: r.status,
  };
}

/** Pretty JSON with one line per run field (args arrays stay on one line). */
function formatExpected({ runs, ...head }) {
  const field = (k, v) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`;
  const top = Object.entries(head).map(([k, v]) => "  " + field(k, v));
  const items = runs.map((r) => "    {\n" +
    Object.entries(r).map(([k, v]) => "      " + field(k, v)).join(",\n") + "\n    }");
  return `{\n${top.join(",\n")},\n  "runs": [\n${items.join(",\n")}\n  ]\n}\n`;
}

const layout = (m) =>
  JSON.stringify({ dirs: m.dirs, files: m.files.map(({ path, size, data, alloc }) => ({ path, size, data, alloc })) });

async function generateCase(c, sparse, version, keep) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `imgaudit-golden-${c.name}-`));
  const orig = path.join(work, "orig");
  const copy = path.join(work, "copy");
  fs.mkdirSync(orig);
  const problems = [];
  const notes = [];
  try {
    const setup = run("bash", ["-euo", "pipefail", "-c", c.setup], orig);
    if (setup.status !== 0) {
      throw new Error(`setup failed (exit ${setup.status}):\n${setup.stdout}${setup.stderr}`);
    }
    const manifest = scan(orig);
    const caseDir = path.join(casesRoot, c.name);
    fs.rmSync(caseDir, { recursive: true, force: true });
    fs.mkdirSync(caseDir, { recursive: true });
    fs.writeFileSync(path.join(caseDir, sparse.CONTAINER_NAME), sparse.packContainer(orig, manifest));

    const specs = c.runs.map(spec);
    const results = specs.map((s) => mapRun(orig, s));
    specs.forEach((s, i) => {
      if (s.exit !== undefined && results[i].exitCode !== s.exit) {
        problems.push(`run ${s.args.join(" ")}: exit ${results[i].exitCode}, declared ${s.exit}`);
      }
    });

    // Faithfulness check: materialize and compare layout, st_blocks and maps.
    sparse.materializeCase(caseDir, copy);
    const again = scan(copy);
    if (layout(again) !== layout(manifest)) {
      problems.push(`materialized data/hole layout differs:\n  orig: ${layout(manifest)}\n  copy: ${layout(again)}`);
    }
    // st_blocks may differ by extent-tree blocks (the original is more
    // fragmented); harmless as long as every map below is identical.
    const materializedBlocks = Object.fromEntries(again.files.map((f) => [f.path, f.blocks]));
    manifest.files.forEach((f) => {
      const b = materializedBlocks[f.path];
      if (b !== f.blocks) notes.push(`note: ${f.path}: st_blocks ${b} materialized, ${f.blocks} originally`);
    });
    specs.forEach((s, i) => {
      const r = mapRun(copy, s);
      if (JSON.stringify(r) !== JSON.stringify(results[i])) {
        problems.push(`run ${s.args.join(" ")} differs on the materialized copy:\n` +
          `  orig: ${JSON.stringify(results[i])}\n  copy: ${JSON.stringify(r)}`);
      }
    });

    const expected = {
      qemuImgVersion: version,
      description: c.description,
      materializedBlocks,
      runs: specs.map((s, i) => ({
        args: s.args,
        ...(s.qemuArgs !== s.args ? { qemuArgs: s.qemuArgs } : {}),
        cwd: s.cwd,
        ...results[i],
      })),
    };
    fs.writeFileSync(path.join(caseDir, "expected.json"), formatExpected(expected));
    return { problems, notes };
  } finally {
    if (keep) console.log(`  kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const keep = argv.includes("--keep");
  const filters = argv.filter((a) => !a.startsWith("--"));
  const selected = cases.filter((c) => filters.length === 0 || filters.some((f) => c.name.includes(f)));
  const names = new Set(cases.map((c) => c.name));
  if (names.size !== cases.length) throw new Error("duplicate case names");

  const version = run("qemu-img", ["--version"], repo).stdout.split("\n")[0];
  const sparse = await loadSparse();
  fs.mkdirSync(casesRoot, { recursive: true });
  if (filters.length === 0) {
    for (const d of fs.readdirSync(casesRoot)) {
      if (!names.has(d)) fs.rmSync(path.join(casesRoot, d), { recursive: true, force: true });
    }
  }

  let failed = 0;
  for (const c of selected) {
    const t0 = Date.now();
    let problems;
    let notes = [];
    try {
      ({ problems, notes } = await generateCase(c, sparse, version, keep));
    } catch (e) {
      problems = [String(e?.stack ?? e)];
    }
    const size = (() => {
      try { return fs.statSync(path.join(casesRoot, c.name, sparse.CONTAINER_NAME)).size; } catch { return 0; }
    })();
    const status = problems.length ? "FAIL" : "ok";
    console.log(`${status.padEnd(4)} ${c.name.padEnd(28)} ${String(size).padStart(8)} B  ${Date.now() - t0} ms`);
    for (const p of [...problems, ...notes]) console.log(`     ${p}`);
    if (problems.length) failed++;
  }

  let total = 0;
  for (const d of fs.readdirSync(casesRoot)) {
    for (const f of fs.readdirSync(path.join(casesRoot, d))) total += fs.statSync(path.join(casesRoot, d, f)).size;
  }
  console.log(`${selected.length} case(s), ${failed} failed; fixtures total ${total} bytes (${version})`);
  process.exit(failed ? 1 : 0);
}

await main();
