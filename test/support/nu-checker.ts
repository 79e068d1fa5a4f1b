/**
 * The Nu HTML Checker (npm `vnu-jar`, run by Java: Debian
 * `default-jre-headless`) over local HTML files, all in one JVM start.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

/** vnu.jar, from the vnu-jar package. */
const VNU_JAR = createRequire(import.meta.url).resolve('vnu-jar/build/dist/vnu.jar');

/** One message of the checker: error, warning or info, with its file and place. */
export interface NuMessage {
  type: string;
  subType?: string;
  file: string;
  line?: number;
  message: string;
}

/** Checks `files`; returns every error and warning (info messages left out). */
export function nuCheck(files: readonly string[]): NuMessage[] {
  const run = spawnSync('java', ['-jar', VNU_JAR, '--format', 'json', '--exit-zero-always', ...files],
    { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
  if (run.error !== undefined) throw run.error;
  const report = JSON.parse(run.stderr) as { messages: { type: string; subType?: string; url?: string; lastLine?: number; message: string }[] };
  return report.messages
    .filter((m) => m.type === 'error' || m.type === 'non-document-error' || (m.type === 'info' && m.subType === 'warning'))
    .map((m) => ({
      type: m.subType ?? m.type, file: (m.url ?? '').replace(/^.*\//, ''), message: m.message,
      ...(m.lastLine === undefined ? {} : { line: m.lastLine }),
    }));
}
