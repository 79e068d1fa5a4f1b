/**
 * One entry of `qemu-img map` (QAPI MapEntry as qemu-img 7.2 fills it).
 * `filename` is never printed in JSON but takes part in merging.
 */
export interface MapEntry {
  startBytes: number;
  lengthBytes: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  compressed: boolean;
  /** Host offset; undefined when the answer had no valid offset. */
  offsetBytes: number | undefined;
  /** Name of the host file holding the bytes; set only together with an offset. */
  filename: string | undefined;
}
