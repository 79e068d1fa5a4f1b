#!/usr/bin/env node
/**
 * The `imgaudit` executable: the only place that sets the exit status. It
 * also sizes libuv's thread pool before its first use: the map stages
 * tables with asynchronous reads, and on storage where each read waits
 * (NFS, Ceph) the reads of all chains in flight should wait together, not
 * four at a time (libuv's default). A value in the environment wins.
 * Arguments are read as bytes where Node could not decode them.
 */
import { main } from './cli/main.js';
import { rawArguments } from './cli/raw-args.js';

process.env.UV_THREADPOOL_SIZE ??= '64';
// Paths are bytes: arguments that are not UTF-8 are recovered exactly (cli/raw-args.ts).
process.exitCode = await main(rawArguments(process.argv.slice(2)));
