/**
 * qemu-img's `--object` (user_creatable_process_cmdline), for what map
 * needs of it: TLS credentials for NBD (`tls-creds-x509`, whose PEM files are
 * loaded when the object is created, as QEMU does), and QEMU's errors for
 * malformed objects. Other object types are accepted and unused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ImgauditError } from '../../errors.js';
import { fsPath } from '../../io/byte-path.js';
import { strerror } from '../../io/strerror.js';
import { optionString } from './options.js';
import { parseQemuOpts } from './qemu-opts.js';

/** A malformed --object; the message is qemu-img's. */
export class ObjectError extends ImgauditError {
  readonly code = 'E_OBJECT';
}

export type QemuObject =
  | { type: 'tls-creds-x509'; id: string; endpoint: string; ca: Buffer; cert: Buffer | undefined; key: Buffer | undefined }
  | { type: string; id: string };

const TYPES = new Set([
  'secret', 'secret_keyring', 'tls-creds-x509', 'tls-creds-psk', 'tls-creds-anon', 'tls-cipher-suites',
  'throttle-group', 'iothread', 'authz-simple', 'authz-list', 'authz-listfile', 'authz-pam',
]);

function readPem(dir: string, name: string, required: boolean): Buffer | undefined {
  const file = path.join(dir, name);
  try {
    return fs.readFileSync(fsPath(file));
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ObjectError(`Unable to access credentials ${file}: ${strerror(error)}`);
  }
}

/** Creates the object an `--object` argument describes (QemuOpts form). */
export function createObject(text: string): QemuObject {
  const { options } = parseQemuOpts(text, 'qom-type');
  const get = (key: string): string | undefined => {
    const v = options.get(key);
    return v === undefined ? undefined : optionString(v) ?? undefined;
  };
  const type = get('qom-type');
  if (type === undefined) throw new ObjectError("Parameter 'qom-type' is missing");
  if (!TYPES.has(type)) throw new ObjectError(`Parameter 'qom-type' does not accept value '${type}'`);
  const id = text.split(/(?<!,),(?!,)/).map((p) => /^id=(.*)$/.exec(p)?.[1]).find((v) => v !== undefined);
  if (id === undefined) throw new ObjectError("Parameter 'id' is missing");
  if (type !== 'tls-creds-x509') return { type, id };
  const endpoint = get('endpoint') ?? 'client';
  const dir = get('dir') ?? '';
  const isClient = endpoint === 'client';
  const ca = readPem(dir, 'ca-cert.pem', true)!;
  const cert = readPem(dir, isClient ? 'client-cert.pem' : 'server-cert.pem', !isClient);
  const key = readPem(dir, isClient ? 'client-key.pem' : 'server-key.pem', !isClient);
  return { type, id, endpoint, ca, cert, key };
}
