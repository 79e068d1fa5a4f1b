/**
 * The command line as a shell user meets it: numeric flags are numbers in
 * --help and a text that is not a number is named as given; `imgaudit
 * completion bash` completes commands, flags and --format choices in a real
 * bash, through the built CLI.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, requireBuild, runCli } from './scan-support.js';

const NUMERIC: [string, string][] = [
  ['scan', '--concurrency'], ['scan', '--max-chain-depth'], ['scan', '--change-retries'], ['report', '--top'], ['runs', '--last'],
  ['check', '--deep-chain-layers'], ['check', '--fill-warning-days'], ['check', '--overcommit-ratio'], ['prune', '--keep'],
  ['query', '--timeout'], ['query', '--max-memory'],
];

describe('numeric flags', () => {
  beforeAll(() => requireBuild());

  it('show as [number] in --help', () => {
    for (const [command, flag] of NUMERIC) {
      const help = runCli([command, '--help'], os.tmpdir()).stdout;
      const line = help.split('\n').findIndex((l) => l.includes(` ${flag} `));
      expect(line, `${command} ${flag}`).toBeGreaterThanOrEqual(0);
      // yargs puts the type at the end of the option's description, which may wrap onto the next line.
      const lines = help.split('\n');
      const end = lines.findIndex((l, i) => i > line && /^\s+-/.test(l));
      const option = lines.slice(line, end < 0 ? line + 2 : end).join(' ');
      expect(option, `${command} ${flag}`).toMatch(/\[number\]/);
      expect(option).not.toContain('[string]');
    }
  });

  it('a text that is not a number: exit 2 naming the flag and the text', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-help-'));
    try {
      for (const [command, flag] of NUMERIC) {
        const sql = command === 'query' ? ['SELECT 1'] : [];
        const result = runCli([command, ...sql, `${flag}=lots`, '--db', path.join(dir, 'none.db')], dir);
        expect(result.status, `${command} ${flag}`).toBe(2);
        expect(result.stderr.split('\n')[0]).toBe(`imgaudit: ${flag}: expected a number, got 'lots'`);
      }
      expect(runCli(['scan', '-j', 'x', dir], dir).stderr).toMatch(/^imgaudit: --concurrency: expected a number, got 'x'/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('imgaudit completion', () => {
  let bin: string;
  beforeAll(() => {
    requireBuild();
    bin = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-completion-'));
    fs.writeFileSync(path.join(bin, 'imgaudit'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
  });
  afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

  /** COMPREPLY of bash for the words typed (the last one is being completed). */
  function complete(...words: string[]): string[] {
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const script = `source <(imgaudit completion bash)\nCOMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}\n`
      + '_imgaudit_completions\nprintf "%s\\n" "${COMPREPLY[@]}"';
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(run.status, run.stderr).toBe(0);
    return run.stdout.split('\n').filter(Boolean);
  }

  it('bash: completes commands, flags and --format choices', () => {
    expect(complete('imgaudit', 're')).toEqual(['report', 'runs'].filter((c) => c.startsWith('re')));
    expect(complete('imgaudit', 'ch')).toEqual(['check']);
    expect(complete('imgaudit', 'report', '--form')).toEqual(['--format']);
    expect(complete('imgaudit', 'report', '--format', 'h')).toEqual(['html']);
    expect(complete('imgaudit', 'diff', '--format', '')).toEqual(['text', 'markdown', 'json', 'csv', 'html']);
  });

  it('zsh: a compdef script asking imgaudit for descriptions; a shell it does not know is refused', () => {
    const zsh = runCli(['completion', 'zsh'], os.tmpdir());
    expect(zsh.status).toBe(0);
    expect(zsh.stdout.split('\n')[0]).toBe('#compdef imgaudit');
    expect(zsh.stdout).toContain('SHELL=zsh imgaudit --get-yargs-completions');
    // What that call answers in zsh: each candidate with its description.
    const answer = spawnSync(process.execPath, [CLI, '--get-yargs-completions', 'imgaudit', ''],
      { encoding: 'utf8', env: { ...process.env, SHELL: 'zsh' } });
    expect(answer.stdout).toContain('report:render a stored run');
    const fish = runCli(['completion', 'fish'], os.tmpdir());
    expect(fish.status).toBe(2);
    expect(fish.stderr).toContain('Choices: "bash", "zsh"');
  });
});

describe('the bin', () => {
  beforeAll(() => requireBuild());

  it('runs by name from PATH, as `npx imgaudit` runs it after `npm ci` (executable, with its #! line)', () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-bin-'));
    try {
      fs.symlinkSync(CLI, path.join(bin, 'imgaudit'));
      // The shebang names `node`: the Node running the tests comes first on PATH.
      const PATH = `${bin}:${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`;
      const r = spawnSync('sh', ['-c', 'imgaudit --version'], { encoding: 'utf8', env: { ...process.env, PATH } });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});
