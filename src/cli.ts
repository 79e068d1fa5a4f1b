#!/usr/bin/env node
/** The `imgaudit` executable: the only place that sets the exit status. */
import { main } from './cli/main.js';

process.exitCode = await main(process.argv.slice(2));
