// A second process for the scan-lock tests (POSIX locks never conflict
// within one process). `hold DB`: take the lock, print "held", release when
// stdin says so. `pause DB`: open the lock file, print "paused" (the first time), wait for a
// line on stdin, then take the lock; print "held" or "error: MESSAGE".
import fs from 'node:fs';
import { ScanLock } from '../../../dist/store/scan-lock.js';

const [mode, db] = process.argv.slice(2);

function waitForLine() {
  const buffer = Buffer.alloc(1);
  for (;;) {
    try {
      if (fs.readSync(0, buffer, 0, 1, null) === 0 || buffer[0] === 10) return;
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

const say = (text) => fs.writeSync(1, `${text}\n`);
let lock;
let pauses = mode === 'pause' ? 1 : 0;
const afterOpen = () => {
  if (pauses-- <= 0) return;
  say('paused');
  waitForLine();
};
try {
  lock = ScanLock.acquire(db, { afterOpen });
} catch (error) {
  say(`error: ${error.message}`);
  process.exit(0);
}
say('held');
waitForLine();
lock.release();
say('released');
