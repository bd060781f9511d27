/**
 * `application/newlines` (API 1.5): one JSON value per line. JSON text never
 * contains a raw newline (strings escape it), so splitting on "\n" is exact.
 */

/** Parse a newlines body; throws SyntaxError on a line that is not JSON. Blank lines are skipped. */
export function parseNewlines(text: string): unknown[] {
  const values: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    values.push(JSON.parse(line));
  }
  return values;
}

/** Serialize values one per line, each line ending in "\n". */
export function toNewlines(values: readonly unknown[]): string {
  let out = '';
  for (const value of values) out += `${JSON.stringify(value)}\n`;
  return out;
}
