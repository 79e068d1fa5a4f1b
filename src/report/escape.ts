/** Escaping for the text formats, in one place: CSV (RFC 4180), markdown tables, HTML, Prometheus labels. */

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Text in a GitHub markdown table cell: pipes, backslashes and inline markup
 * (`*`, `_`, backticks, brackets, `<`) escaped, line breaks as <br>.
 */
export function markdownCell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[<*_`[\]]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, '<br>');
}

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
};

/** Text or an attribute value in HTML. */
export function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

/** A Prometheus label value: backslash, double quote and line feed escaped. */
export function promLabel(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * Text in a terminal: control characters (a file name may hold a newline or
 * an escape sequence) shown as `\n`, `\t`, `\x1b`.
 */
export function terminalText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
