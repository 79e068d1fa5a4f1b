/**
 * The width function the bundle gives yargs in place of `string-width`
 * (src/cli/text-width.ts) measures what the help can hold as string-width
 * does: plain and accented text, punctuation the help uses, combining
 * marks, East Asian wide text, ANSI escapes; and every command's help text.
 */
import { describe, expect, it } from 'vitest';
import stringWidth from 'string-width';
import textWidth from '../../../src/cli/text-width.js';
import { commandsFor } from '../../../src/cli/commands.js';

describe('textWidth', () => {
  const samples = [
    '', 'imgaudit scan [ROOT...]', '--db  SQLite database file, or a central store postgres://...', 'ä ö ü é ñ ç ø', 'e\u0301',
    '≤ 0.25× — “quoted” ‘x’ … → ← ±', '日本語のテキスト', '한국어', 'ＦＵＬＬ', '\u001b[1mbold\u001b[22m and \u001b[31mred\u001b[39m',
    'tab\there', 'zero\u200bwidth', '\u00ad', 'x\u0300\u0301y',
  ];
  it.each(samples)('%j: the width string-width gives', (sample) => {
    expect(textWidth(sample)).toBe(stringWidth(sample));
  });

  it('every line of every option and command description: the width string-width gives', async () => {
    const commands = await commandsFor([]);
    const texts = commands.flatMap((command) => [String(command.command), String(command.describe ?? '')]);
    expect(texts.length).toBeGreaterThan(5);
    for (const text of texts) expect(textWidth(text), text).toBe(stringWidth(text));
  });
});
