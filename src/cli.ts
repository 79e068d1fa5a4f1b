#!/usr/bin/env node
/**
 * The `imgaudit` executable: the only place that sets the exit status. It
 * also sizes libuv's thread pool before its first use: the map stages
 * tables with asynchronous reads, and on storage where each read waits
 * (NFS, Ceph) the reads of all chains in flight should wait together, not
 * four at a time (libuv's default). A value in the environment wins.
 * Arguments are read as bytes where Node could not decode them. And it
 * turns on Node's compile cache before it loads the rest, so that a
 * command does not parse and compile its modules anew at every start.
 */
import module from 'node:module';

// Node's own code cache, in the temporary directory (NODE_DISABLE_COMPILE_CACHE=1 turns it off).
module.enableCompileCache?.();
process.env.UV_THREADPOOL_SIZE ??= '64';
const { main } = await import('./cli/main.js');
const { rawArguments } = await import('./cli/raw-args.js');
// Paths are bytes: arguments that are not UTF-8 are recovered exactly (cli/raw-args.ts).
process.exitCode = await main(rawArguments(process.argv.slice(2)));
