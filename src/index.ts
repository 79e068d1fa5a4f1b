/** imgaudit's library entry point. */
export { ImageChain, type ChainLayerInfo, type FileIdentity } from './map/image-chain.js';
export type { MapEntry } from './map/map-entry.js';
export type { MapRangeOptions } from './map/map-entries.js';
export { DEFAULT_MAX_CHAIN_DEPTH, type OpenChainOptions } from './map/chain.js';
export * from './errors.js';
export { detectFormat } from './map/detect.js';
export { isMappedFormat } from './formats/registry.js';
export type { FormatName } from './formats/types.js';
