/**
 * Response types by `Accept` (API.md "Content types"): JSON by default,
 * `application/newlines` on request; anything else we cannot produce is 406.
 */
import { HttpError } from '../errors/weave-errors.js';

export type ResponseFormat = 'json' | 'newlines';

export function negotiate(accept: string | undefined, allowNewlines: boolean): ResponseFormat {
  if (!accept || accept.trim() === '') return 'json';
  let best: { format: ResponseFormat; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [rawType = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    let format: ResponseFormat | undefined;
    if (rawType === 'application/newlines' && allowNewlines) format = 'newlines';
    else if (['application/json', 'application/*', '*/*', 'text/plain'].includes(rawType)) {
      format = 'json';
    }
    if (format && (!best || q > best.q)) best = { format, q };
  }
  if (!best) throw new HttpError('NOT_ACCEPTABLE');
  return best.format;
}
