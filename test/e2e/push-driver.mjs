// Fault-injection driver for the push tests: runs the built push with a
// hook between its steps that prints `N STEP RUN` and, at step number
// PAUSE_AT, waits until the file RESUME exists (the test kills the process
// there with SIGKILL, or stops the server first and then lets it go on).
import fs from 'node:fs';
import { pushDatabase } from '../../dist/store/pg/push-database.js';

const [database, central, host, pauseAtText, resume] = process.argv.slice(2);
const pauseAt = Number(pauseAtText);
let n = 0;
try {
  const outcome = await pushDatabase({
    database, central, host,
    hooks: {
      onStep: async (step, runId) => {
        n++;
        process.stdout.write(`${n} ${step} ${runId}\n`);
        if (n === pauseAt) {
          while (!fs.existsSync(resume)) await new Promise((r) => setTimeout(r, 5));
        }
      },
    },
  });
  process.stdout.write(`finished ${outcome.pushedRunIds.join(',')}\n`);
} catch (error) {
  process.stderr.write(`push failed: ${error.message}\n`);
  process.exit(2);
}
