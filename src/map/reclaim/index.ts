/** Per-layer reclaim figures (issue #6): pure interval math over map streams. */
export { type ShadowedBytes, shadowedBytes } from './shadowed-bytes.js';
export { type BaseSharing, type OverlayShare, baseSharing } from './base-sharing.js';
export { type CommitBacking, type CommitEstimate, type CommitTop, estimateCommit } from './commit-estimate.js';
export { type ByteRange, type CommitHostGrowth, type Qcow2HostLayout } from './commit-host.js';
