/**
 * NBD protocol constants (doc/proto.md of the NBD project; QEMU's
 * include/block/nbd.h) and the texts QEMU's client uses for them.
 */
export const NBDMAGIC = 0x4e42444d41474943n;
export const IHAVEOPT = 0x49484156454f5054n;
export const OLDSTYLE_MAGIC = 0x00420281861253n;
export const OPT_REPLY_MAGIC = 0x3e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

export const FLAG_FIXED_NEWSTYLE = 1;
export const FLAG_NO_ZEROES = 2;

export const OPT_EXPORT_NAME = 1;
export const OPT_ABORT = 2;
export const OPT_STARTTLS = 5;
export const OPT_GO = 7;
export const OPT_STRUCTURED_REPLY = 8;
export const OPT_SET_META_CONTEXT = 10;

export const REP_ACK = 1;
export const REP_INFO = 3;
export const REP_META_CONTEXT = 4;
export const REP_ERR_BIT = 0x80000000;
export const REP_ERR_UNSUP = REP_ERR_BIT + 1;
export const REP_ERR_POLICY = REP_ERR_BIT + 2;
export const REP_ERR_INVALID = REP_ERR_BIT + 3;
export const REP_ERR_PLATFORM = REP_ERR_BIT + 4;
export const REP_ERR_TLS_REQD = REP_ERR_BIT + 5;
export const REP_ERR_UNKNOWN = REP_ERR_BIT + 6;
export const REP_ERR_SHUTDOWN = REP_ERR_BIT + 7;
export const REP_ERR_BLOCK_SIZE_REQD = REP_ERR_BIT + 8;
export const REP_ERR_TOO_BIG = REP_ERR_BIT + 9;

export const INFO_EXPORT = 0;
export const INFO_BLOCK_SIZE = 3;

export const CMD_READ = 0;
export const CMD_DISC = 2;
export const CMD_BLOCK_STATUS = 7;
export const CMD_FLAG_REQ_ONE = 1 << 3;

export const REPLY_FLAG_DONE = 1;
export const REPLY_TYPE_NONE = 0;
export const REPLY_TYPE_OFFSET_DATA = 1;
export const REPLY_TYPE_OFFSET_HOLE = 2;
export const REPLY_TYPE_BLOCK_STATUS = 5;
export const REPLY_TYPE_ERROR = (1 << 15) + 1;
export const REPLY_TYPE_ERROR_OFFSET = (1 << 15) + 2;

export const STATE_HOLE = 1;
export const STATE_ZERO = 2;

/** nbd_opt_lookup. */
export function optionName(option: number): string {
  switch (option) {
    case OPT_EXPORT_NAME: return 'export name';
    case OPT_ABORT: return 'abort';
    case OPT_STARTTLS: return 'starttls';
    case OPT_GO: return 'go';
    case OPT_STRUCTURED_REPLY: return 'structured reply';
    case OPT_SET_META_CONTEXT: return 'set meta context';
    default: return '<unknown>';
  }
}

/** nbd_handle_reply_err's message for an option error reply. */
export function optionErrorText(type: number, option: number): { message: string; hint?: string } {
  const o = `option ${option} (${optionName(option)})`;
  switch (type) {
    case REP_ERR_UNSUP: return { message: `Unsupported option ${o}` };
    case REP_ERR_POLICY: return { message: `Denied by server for ${o}` };
    case REP_ERR_INVALID: return { message: `Invalid parameters for ${o}` };
    case REP_ERR_PLATFORM: return { message: `Server lacks support for ${o}` };
    case REP_ERR_TLS_REQD: return { message: `TLS negotiation required before ${o}`, hint: 'Did you forget a valid tls-creds?' };
    case REP_ERR_UNKNOWN: return { message: 'Requested export not available' };
    case REP_ERR_SHUTDOWN: return { message: `Server shutting down before ${o}` };
    case REP_ERR_BLOCK_SIZE_REQD: return { message: `Server requires INFO_BLOCK_SIZE for ${o}` };
    case REP_ERR_TOO_BIG: return { message: `Server rejected oversize request for ${o}` };
    default: return { message: `Unknown error code when asking for ${o}` };
  }
}

/** strerror() of the NBD error numbers (EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, ESHUTDOWN). */
export function nbdErrnoText(error: number): string {
  const texts: Record<number, string> = {
    1: 'Operation not permitted', 5: 'Input/output error', 12: 'Cannot allocate memory', 22: 'Invalid argument',
    28: 'No space left on device', 75: 'Value too large for defined data type', 95: 'Operation not supported',
    108: 'Cannot send after transport endpoint shutdown',
  };
  return texts[error] ?? 'Invalid argument';
}
