// Preload for the scan tests (node --import): counts fs.openSync calls on
// files under $IMGAUDIT_COUNT_UNDER and writes them, one path a line, to
// $IMGAUDIT_COUNT_OUT when the process exits. Proves an unchanged re-scan
// opens (reads) no image.
import fs from 'node:fs';

const under = process.env.IMGAUDIT_COUNT_UNDER;
const out = process.env.IMGAUDIT_COUNT_OUT;
const opened = [];
const openSync = fs.openSync;
fs.openSync = function countedOpenSync(file, ...rest) {
  if (under !== undefined && String(file).startsWith(under)) opened.push(String(file));
  return openSync.call(this, file, ...rest);
};
process.on('exit', () => {
  if (out !== undefined) fs.writeFileSync(out, opened.map((file) => `${file}\n`).join(''));
});
