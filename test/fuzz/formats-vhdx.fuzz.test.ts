/**
 * Seeded fuzzing of the vhdx reader: mutated headers, tables and (where the
 * format has them) descriptors and checksums, truncation and growth, mapped
 * in a worker; only ImgauditError subclasses, no hang, bounded memory.
 * See test/formats/fuzz-cases.ts for the mutations.
 */
import { fuzzFormat } from '../formats/fuzz-run.js';

fuzzFormat('vhdx', 631, 1000);
