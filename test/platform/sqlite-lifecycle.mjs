// Opens, prepares, steps and closes better-sqlite3 databases many times,
// and leaves statements for the garbage collector: the destructor path that
// made better-sqlite3 12 abort on Node 24. Exits 0 when it survives.
import Database from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-sqlite-'));
const rounds = Number(process.argv[2] ?? 20000);
for (let i = 0; i < rounds; i += 1) {
  const db = new Database(i % 10 === 0 ? path.join(dir, 'f.db') : ':memory:');
  db.prepare('CREATE TABLE IF NOT EXISTS t (x)').run();
  db.prepare('INSERT INTO t VALUES (?)').run(i);
  db.prepare('SELECT count(*) AS n FROM t').get();
  if (i % 3 !== 0) db.close(); // the rest are left to the garbage collector
}
globalThis.gc?.();
fs.rmSync(dir, { recursive: true, force: true });
process.stdout.write(`ok ${rounds}\n`);
