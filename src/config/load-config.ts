/**
 * Loading the effective configuration: defaults, then the config file, then
 * command-line flags (flags win). Relative paths in a config file are
 * relative to the file's directory; relative paths from flags, and the
 * default database, are relative to the current directory.
 */
import path from 'node:path';
import { decodePath } from '../io/byte-path.js';
import { readRegularFile } from '../io/regular-file.js';
import { ConfigError } from './config-error.js';
import { DEFAULT_CONFIG, type PartialConfig, type ScanConfig, mergeConfig, validateConfig } from './config.js';
import { presetLayer } from './presets.js';

/** Where the configuration comes from. */
export interface ConfigSources {
  /** Path of a JSON config file (`--config`), if any. */
  file?: string | undefined;
  /** Values given as flags, keyed like the config (unvalidated). */
  flags?: Record<string, unknown>;
  /** How to name each flag-given key in messages (`concurrency` → `--concurrency`). */
  flagNames?: Readonly<Record<string, string>>;
  /** Base for relative paths from flags and for the default database. */
  cwd: string;
}

/** A config file is small: anything larger is not one (and /dev/zero never ends). */
export const MAX_CONFIG_BYTES = 1 << 20;

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    // Paths are bytes: a root written with bytes that are not UTF-8 keeps them (io/byte-path.ts).
    text = decodePath(readRegularFile(file, MAX_CONFIG_BYTES));
  } catch (error) {
    throw new ConfigError(`cannot read config file '${file}': ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(`config file '${file}' is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function isUrl(location: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(location);
}

function resolvePaths(config: PartialConfig, base: string): PartialConfig {
  const resolved: PartialConfig = { ...config };
  if (config.roots !== undefined) resolved.roots = config.roots.map((root) => path.resolve(base, root));
  // A central store (postgres://...) is a URL, not a path.
  if (config.database !== undefined && !isUrl(config.database)) resolved.database = path.resolve(base, config.database);
  if (config.references !== undefined) {
    const { libvirtDomainDirs, pathLists } = config.references;
    resolved.references = {
      ...(libvirtDomainDirs === undefined ? {} : { libvirtDomainDirs: libvirtDomainDirs.map((dir) => path.resolve(base, dir)) }),
      ...(pathLists === undefined ? {} : { pathLists: pathLists.map((file) => path.resolve(base, file)) }),
    };
  }
  return resolved;
}

/**
 * Throws ConfigError naming the key or flag; never touches anything but the
 * config file. The preset (the flag's, else the file's) is a layer between
 * the defaults and the file, so the file's and the flags' keys win over it.
 */
export function loadConfig(sources: ConfigSources): ScanConfig {
  const layers: PartialConfig[] = [{ database: path.resolve(sources.cwd, DEFAULT_CONFIG.database) }];
  if (sources.file !== undefined) {
    const file = path.resolve(sources.cwd, sources.file);
    const fromFile = validateConfig(readConfigFile(file), (key) => `${file}: '${key}'`, file);
    layers.push(resolvePaths(fromFile, path.dirname(file)));
  }
  if (sources.flags !== undefined) {
    const names = sources.flagNames ?? {};
    const fromFlags = validateConfig(sources.flags, (key) => names[key] ?? `--${key}`, 'flags', true);
    layers.push(resolvePaths(fromFlags, sources.cwd));
  }
  const preset = layers.reduce<ScanConfig['preset']>((name, layer) => layer.preset !== undefined ? layer.preset : name, null);
  if (preset !== null) layers.splice(1, 0, presetLayer(preset));
  return mergeConfig(DEFAULT_CONFIG, ...layers);
}
