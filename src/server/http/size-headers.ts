/**
 * X-Weave-Records / -Bytes / -Total-Records / -Total-Bytes (API.md
 * "Headers"): a client announces the size of a POST or batch; over a limit
 * is 400 with code 17 before anything is written.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Limits } from '../config/server-config.js';
import { HttpError } from '../errors/weave-errors.js';

const CHECKS: ReadonlyArray<[string, keyof Limits]> = [
  ['x-weave-records', 'maxPostRecords'],
  ['x-weave-bytes', 'maxPostBytes'],
  ['x-weave-total-records', 'maxTotalRecords'],
  ['x-weave-total-bytes', 'maxTotalBytes'],
];

export function checkSizeHeaders(headers: IncomingHttpHeaders, limits: Limits): void {
  for (const [name, limit] of CHECKS) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !/^\d{1,15}$/.test(value.trim())) {
      throw new HttpError('BAD_REQUEST', `invalid ${name}`);
    }
    if (Number(value) > limits[limit])
      throw new HttpError('SIZE_LIMIT_EXCEEDED', `${name} over limit`);
  }
}
