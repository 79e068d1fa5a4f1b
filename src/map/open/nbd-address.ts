/**
 * How QEMU 7.2's nbd driver reads its address (block/nbd.c
 * nbd_parse_filename, nbd_parse_uri, nbd_process_legacy_socket_options,
 * nbd_refresh_filename): `nbd://HOST[:PORT]/EXPORT`, `nbd+tcp://…`,
 * `nbd+unix:///EXPORT?socket=PATH`, `nbd:HOST:PORT[:exportname=E]`,
 * `nbd:unix:PATH[:exportname=E]`, or the `server.*`/`host`/`port`/`path`/
 * `export` options; and the canonical name qemu-img prints in its File
 * column (`nbd+unix:///E?socket=P`, `nbd://H:P/E`).
 */
import { ImageOpenError } from '../../errors.js';
import { type FlatOptions, optionString, stringOption } from './options.js';

export const NBD_DEFAULT_PORT = 10809;

export type NbdServer = { type: 'unix'; path: string } | { type: 'inet'; host: string; port: string };

export interface NbdTarget {
  server: NbdServer;
  /** The export name asked for; undefined asks for '' (the default export). */
  exportName: string | undefined;
  tlsCreds: string | undefined;
  tlsHostname: string | undefined;
  /** `x-dirty-bitmap`: a meta context queried instead of base:allocation. */
  dirtyBitmap: string | undefined;
  /** qemu-img's name for the node (human File column). */
  displayName: string;
}

const fail = (message: string): never => {
  throw new ImageOpenError(message, 'E_NBD_ADDRESS');
};

/** uri_parse's percent-decoding of the path and query parts. */
function percentDecode(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** nbd_parse_uri: fills `options` or throws "No valid URL specified". */
function parseUri(filename: string, options: FlatOptions): void {
  const bad = (): never => fail('No valid URL specified');
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/.exec(filename);
  if (m === null) return bad();
  const scheme = m[1]!;
  const authority = m[2]!;
  const isUnix = scheme === 'nbd+unix';
  if (scheme !== 'nbd' && scheme !== 'nbd+tcp' && !isUnix) return bad();
  let path = percentDecode(m[3]!);
  if (path.startsWith('/')) path = path.slice(1);
  if (path !== '') options.set('export', path);
  const query = m[4] === undefined || m[4] === '' ? [] : m[4].split(/[&;]/).filter((p) => p !== '');
  if (query.length > 1 || (isUnix && query.length === 0) || (!isUnix && query.length > 0)) return bad();
  const hostPort = /^(?:[^@]*@)?(\[[^\]]*\]|[^:]*)(?::([0-9]*))?$/.exec(authority);
  if (hostPort === null) return bad();
  const server = hostPort[1]!;
  const port = hostPort[2] === undefined || hostPort[2] === '' ? 0 : Number(hostPort[2]);
  if (isUnix) {
    const [name, ...rest] = query[0]!.split('=');
    if (server !== '' || port !== 0 || name !== 'socket') return bad();
    options.set('server.type', 'unix');
    options.set('server.path', percentDecode(rest.join('=')));
  } else {
    if (server === '') return bad();
    options.set('server.type', 'inet');
    options.set('server.host', server.startsWith('[') ? server.slice(1, -1) : server);
    options.set('server.port', String(port === 0 ? NBD_DEFAULT_PORT : port));
  }
}

/** inet_parse of `host:port` (QEMU's "error parsing address" family). */
function parseInet(spec: string): { host: string; port: string } {
  let m: RegExpExecArray | null;
  if (spec.startsWith(':')) {
    m = /^:([^,]{1,32})/.exec(spec);
    if (m === null) fail(`error parsing port in address '${spec}'`);
    return { host: '', port: m![1]! };
  }
  if (spec.startsWith('[')) {
    m = /^\[([^\]]{1,64})\]:([^,]{1,32})/.exec(spec);
    if (m === null) fail(`error parsing IPv6 address '${spec}'`);
    return { host: m![1]!, port: m![2]! };
  }
  m = /^([^:]{1,255}):([^,]{1,32})/.exec(spec);
  if (m === null) fail(`error parsing address '${spec}'`);
  return { host: m![1]!, port: m![2]! };
}

/** nbd_parse_filename: a filename given to the nbd driver becomes options. */
export function parseNbdFilename(filename: string, options: FlatOptions): void {
  if (options.has('host') || options.has('port') || options.has('path')) {
    fail('host/port/path and a file name may not be specified at the same time');
  }
  if (filename.includes('://')) {
    parseUri(filename, options);
    return;
  }
  let file = filename;
  const en = file.indexOf(':exportname=');
  if (en >= 0) {
    if (en + ':exportname='.length === file.length) return;
    options.set('export', file.slice(en + ':exportname='.length));
    file = file.slice(0, en);
  }
  if (!file.startsWith('nbd:')) fail("File name string for NBD must start with 'nbd:'");
  const hostSpec = file.slice('nbd:'.length);
  if (hostSpec === '') return;
  if (hostSpec.startsWith('unix:')) {
    options.set('server.type', 'unix');
    options.set('server.path', hostSpec.slice('unix:'.length));
  } else {
    const { host, port } = parseInet(hostSpec);
    options.set('server.type', 'inet');
    options.set('server.host', host);
    options.set('server.port', port);
  }
}

/** The nbd driver's runtime options (everything else is "doesn't support the option"). */
export const NBD_OPTION_KEYS = new Set([
  'server.type', 'server.path', 'server.host', 'server.port', 'server.numeric', 'server.to', 'server.ipv4',
  'server.ipv6', 'server.keep-alive', 'host', 'port', 'path', 'export', 'tls-creds', 'tls-hostname',
  'x-dirty-bitmap', 'reconnect-delay', 'open-timeout',
]);

/** nbd_config + nbd_process_legacy_socket_options: the target, or QEMU's error. Consumes the keys it reads. */
export function nbdTarget(options: FlatOptions): NbdTarget {
  const path = stringOption(options, 'path');
  const host = stringOption(options, 'host');
  const port = options.has('port') ? optionString(options.get('port')!) ?? undefined : undefined;
  const hasServer = [...options.keys()].some((k) => k.startsWith('server.'));
  if (path !== undefined || host !== undefined || port !== undefined) {
    if (hasServer) fail("Cannot use 'server' and path/host/port at the same time");
    if (path !== undefined && host !== undefined) fail('path and host may not be used at the same time');
    if (path !== undefined) {
      if (port !== undefined) fail('port may not be used without host');
      options.set('server.type', 'unix');
      options.set('server.path', path);
    } else if (host !== undefined) {
      options.set('server.type', 'inet');
      options.set('server.host', host);
      options.set('server.port', port ?? String(NBD_DEFAULT_PORT));
    } else {
      fail('port may not be used without host');
    }
    for (const key of ['path', 'host', 'port']) options.delete(key);
  }
  const serverKeys = [...options.keys()].filter((k) => k.startsWith('server.'));
  if (serverKeys.length === 0) fail('NBD server address missing');
  const type = stringOption(options, 'server.type');
  if (type === undefined) fail("Parameter 'type' is missing");
  let server: NbdServer;
  if (type === 'unix') {
    const socketPath = stringOption(options, 'server.path');
    if (socketPath === undefined) fail("Parameter 'path' is missing");
    server = { type: 'unix', path: socketPath! };
  } else if (type === 'inet') {
    const h = stringOption(options, 'server.host');
    const p = stringOption(options, 'server.port');
    if (h === undefined) fail("Parameter 'host' is missing");
    if (p === undefined) fail("Parameter 'port' is missing");
    server = { type: 'inet', host: h!, port: p! };
  } else {
    fail(`Parameter 'type' does not accept value '${type}'`);
  }
  for (const key of serverKeys) options.delete(key);
  const exportName = stringOption(options, 'export');
  const tlsCreds = stringOption(options, 'tls-creds');
  const tlsHostname = stringOption(options, 'tls-hostname');
  const dirtyBitmap = stringOption(options, 'x-dirty-bitmap');
  for (const key of ['export', 'tls-creds', 'tls-hostname', 'x-dirty-bitmap', 'reconnect-delay', 'open-timeout']) options.delete(key);
  const s = server!;
  const displayName = s.type === 'unix'
    ? (exportName !== undefined ? `nbd+unix:///${exportName}?socket=${s.path}` : `nbd+unix://?socket=${s.path}`)
    : (exportName !== undefined ? `nbd://${s.host}:${s.port}/${exportName}` : `nbd://${s.host}:${s.port}`);
  return { server: s, exportName, tlsCreds, tlsHostname, dirtyBitmap, displayName };
}
