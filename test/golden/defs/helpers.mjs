// Helpers for case declarations.
//
// A case is { name, description, setup, runs }:
//   setup: bash snippet run (set -euo pipefail) in a fresh empty directory;
//          use relative file names only.
//   runs:  qemu-img argument lists (without "qemu-img"), recorded verbatim as
//          the expected result of `imgaudit <same args>`; or objects
//          { args, qemuArgs?, cwd?, exit? } where qemuArgs is what qemu-img is
//          really given (default: args), cwd is relative to the case dir and
//          exit (if given) is checked by the generator as a sanity guard.

/** JSON and human map of one image, with optional extra options. */
export function both(img, ...extra) {
  return [
    ["map", "--output=json", ...extra, img],
    ["map", ...extra, img],
  ];
}

/** Same as both() but each run declared to exit with `exit`. */
export function bothExit(exit, img, ...extra) {
  return both(img, ...extra).map((args) => ({ args, exit }));
}

/** Runs that must fail with exit 1 (open errors etc.). */
export function failing(...argLists) {
  return argLists.map((args) => ({ args, exit: 1 }));
}

/** qemu-io invocation writing/zeroing with -f qcow2, output discarded. */
export function qio(img, ...cmds) {
  return `qemu-io -f qcow2 ${cmds.map((c) => `-c '${c}'`).join(" ")} ${img} >/dev/null`;
}

/** Same for raw images. */
export function qioRaw(img, ...cmds) {
  return `qemu-io -f raw ${cmds.map((c) => `-c '${c}'`).join(" ")} ${img} >/dev/null`;
}
