#!/usr/bin/env node
/**
 * The `imgaudit` executable: the only place that sets the exit status. It
 * also sizes libuv's thread pool before its first use: the map stages
 * tables with asynchronous reads, and on storage where each read waits
 * (NFS, Ceph) the reads of all chains in flight should wait together, not
 * four at a time (libuv's default). A value in the environment wins.
 */
import { main } from './cli/main.js';

process.env.UV_THREADPOOL_SIZE ??= '64';
process.exitCode = await main(process.argv.slice(2));
