/**
 * qemu-img's -s/-l size arguments (cvtnum): qemu's size syntax, 0 … INT64_MAX.
 * The parser itself lives with the image-option parsers (map/open/qemu-size).
 */
export { type SizeParse, parseQemuSize } from '../../map/open/qemu-size.js';
