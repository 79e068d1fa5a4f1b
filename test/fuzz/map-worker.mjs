/**
 * Fuzz worker (worker_threads): maps one image per message with the *built*
 * library (dist/), so the parent can kill it when a case hangs. Reply:
 * { id, outcome: 'ok' | 'typed' | 'other', name, code, message, entries, rssBytes }.
 * 'typed' = an ImgauditError subclass; 'other' = anything else (a bug).
 * On success the entries are also checked to tile [0, virtual size).
 */
import { parentPort } from 'node:worker_threads';

const root = new URL('../../dist/', import.meta.url);
const { ImageChain } = await import(new URL('map/image-chain.js', root).href);
const { ImgauditError } = await import(new URL('errors.js', root).href);

function mapOnce(file, format, maxDepth) {
  const options = {};
  if (format !== undefined) options.format = format;
  if (maxDepth !== undefined) options.maxDepth = maxDepth;
  const chain = ImageChain.open(file, options);
  try {
    let entries = 0;
    let next = 0;
    for (const e of chain.entriesSync()) {
      entries++;
      if (e.startBytes !== next) throw new Error(`invariant: entry ${entries} starts at ${e.startBytes}, expected ${next}`);
      if (!(e.lengthBytes > 0) && chain.virtualSizeBytes !== 0) throw new Error(`invariant: entry ${entries} has length ${e.lengthBytes}`);
      next = e.startBytes + e.lengthBytes;
    }
    if (next !== chain.virtualSizeBytes) throw new Error(`invariant: map ends at ${next}, size ${chain.virtualSizeBytes}`);
    return entries;
  } finally {
    chain.close();
  }
}

parentPort.on('message', ({ id, file, format, maxDepth }) => {
  let reply;
  try {
    reply = { id, outcome: 'ok', entries: mapOnce(file, format, maxDepth) };
  } catch (error) {
    const typed = error instanceof ImgauditError;
    reply = {
      id,
      outcome: typed ? 'typed' : 'other',
      name: error?.constructor?.name ?? typeof error,
      code: typed ? error.code : undefined,
      message: String(error?.message ?? error),
      stack: typed ? undefined : String(error?.stack ?? ''),
    };
  }
  reply.rssBytes = process.memoryUsage().rss;
  parentPort.postMessage(reply);
});
parentPort.postMessage({ ready: true });
