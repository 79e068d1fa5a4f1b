/**
 * `imgaudit completion [bash|zsh]`: prints a shell completion script. The
 * script asks imgaudit itself (`--get-yargs-completions`, answered by
 * yargs) for the commands, flags and `--format` choices that fit the words
 * typed so far, so it never goes stale. Each script names its shell in the
 * environment of that call: yargs answers zsh with descriptions.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import type { CliCommand } from '../commands.js';
import { writeOutput } from './report-cli.js';

const SHELLS = ['bash', 'zsh'] as const;
type Shell = typeof SHELLS[number];

const BASH = `###-begin-imgaudit-completions-###
# imgaudit completion for bash. Install: imgaudit completion bash > /etc/bash_completion.d/imgaudit
# (or: imgaudit completion bash >> ~/.bashrc)
_imgaudit_completions() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words
  mapfile -t words < <(SHELL=bash imgaudit --get-yargs-completions "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
  mapfile -t COMPREPLY < <(compgen -W "\${words[*]}" -- "$cur")
}
complete -o bashdefault -o default -F _imgaudit_completions imgaudit
###-end-imgaudit-completions-###
`;

const ZSH = `#compdef imgaudit
###-begin-imgaudit-completions-###
# imgaudit completion for zsh. Install: imgaudit completion zsh > "\${fpath[1]}/_imgaudit"
# (or: imgaudit completion zsh >> ~/.zshrc)
_imgaudit() {
  local -a reply
  local IFS=$'\\n'
  reply=($(SHELL=zsh imgaudit --get-yargs-completions "\${words[@]:0:CURRENT}" 2>/dev/null))
  if (( \${#reply} > 0 )); then
    _describe 'imgaudit' reply
  else
    _files
  fi
}
if [[ "\${zsh_eval_context[-1]}" == "loadautofunc" ]]; then
  _imgaudit "$@"
else
  compdef _imgaudit imgaudit
fi
###-end-imgaudit-completions-###
`;

/** The completion script for `shell`. */
export function completionScript(shell: Shell): string {
  return shell === 'zsh' ? ZSH : BASH;
}

function builder(yargs: Argv): Argv {
  return yargs
    .positional('shell', { choices: SHELLS, describe: 'the shell [default: zsh when $SHELL is zsh, else bash]' })
    .example('imgaudit completion bash > /etc/bash_completion.d/imgaudit', 'complete commands, flags and formats in bash')
    .example('imgaudit completion zsh > "${fpath[1]}/_imgaudit"', 'the same in zsh (then: compinit)')
    .epilog('Exit status: 0.');
}

async function run(argv: ArgumentsCamelCase): Promise<number> {
  const shell = (argv.shell as Shell | undefined) ?? ((process.env.SHELL ?? '').endsWith('zsh') ? 'zsh' : 'bash');
  writeOutput(completionScript(shell), undefined);
  return 0;
}

/** The `completion` command. */
export const completionCommand: CliCommand = {
  command: 'completion [shell]',
  describe: 'print a bash or zsh completion script',
  builder,
  run,
};
