/**
 * `application/newlines` (API 1.5): one JSON value per line. JSON text never
 * contains a raw newline (strings escape it), so splitting on "\n" is exact.
 */

/**
 * Parse a newlines body: one final "\n" may end it; every line before it,
 * an empty one too, must be a JSON object (syncstorage-rs splits with Rust's
 * `lines()` and refuses any line that is not a JSON object, so `"\n"` alone
 * or a blank line between two objects is a 400). An empty body is no items.
 * Throws SyntaxError.
 */
export function parseNewlines(text: string): unknown[] {
  if (text === '') return [];
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const values: unknown[] = [];
  for (const line of body.split('\n')) {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SyntaxError('a line is not a JSON object');
    }
    values.push(value);
  }
  return values;
}

/** Serialize values one per line, each line ending in "\n". */
export function toNewlines(values: readonly unknown[]): string {
  let out = '';
  for (const value of values) out += `${JSON.stringify(value)}\n`;
  return out;
}
