/** qemu-img 7.2 map's option table (qemu-img.c img_map), plus imgaudit's --compat. */
import type { OptionSpec } from './getopt.js';

export const MAP_OPTIONS: readonly OptionSpec[] = [
  { long: 'help', short: 'h', hasArg: false, key: 'help' },
  { long: 'format', short: 'f', hasArg: true, key: 'format' },
  { long: 'output', hasArg: true, key: 'output' },
  { long: 'start-offset', short: 's', hasArg: true, key: 'start' },
  { long: 'max-length', short: 'l', hasArg: true, key: 'length' },
  { long: 'object', hasArg: true, key: 'object' },
  { long: 'image-opts', hasArg: false, key: 'image-opts' },
  { long: 'force-share', short: 'U', hasArg: false, key: 'force-share' },
  { long: 'compat', hasArg: true, key: 'compat' },
];
