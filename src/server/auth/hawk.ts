/**
 * Hawk request MACs (the "header" scheme of Hawk 1, as hawkauthlib and
 * Firefox use it; API.md "Authentication"). Used by the server to verify
 * and by the CLI / test client to sign.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The attributes of an `Authorization: Hawk …` header. */
export interface HawkAttributes {
  id: string;
  ts: string;
  nonce: string;
  mac: string;
  hash?: string;
  ext?: string;
  app?: string;
  dlg?: string;
}

/** What the MAC covers. `resource` is the path with its query string. */
export interface HawkRequest {
  method: string;
  resource: string;
  host: string;
  port: number;
  ts: string;
  nonce: string;
  hash?: string;
  ext?: string;
}

const SCHEME = /^hawk\s+/i;
// One `name="value"` and its separator, matched where the last one ended.
const ATTRIBUTE = /\s*([a-z]+)="([^"\\]*)"\s*(?:,|$)/y;
/** Each attribute's bit, to refuse one given twice. */
const KNOWN: Readonly<Record<string, number>> = {
  id: 1,
  ts: 2,
  nonce: 4,
  mac: 8,
  hash: 16,
  ext: 32,
  app: 64,
  dlg: 128,
};

/** Parse an Authorization header; undefined when it is not a well-formed Hawk header. */
export function parseHawkHeader(header: string | undefined): HawkAttributes | undefined {
  if (!header) return undefined;
  const scheme = SCHEME.exec(header);
  if (!scheme) return undefined;
  // One object shape for every header (the parse runs on every request).
  const attributes: HawkAttributes = {
    id: '',
    ts: '',
    nonce: '',
    mac: '',
    hash: undefined,
    ext: undefined,
    app: undefined,
    dlg: undefined,
  };
  let seen = 0;
  const end = header.trimEnd().length;
  ATTRIBUTE.lastIndex = scheme[0].length;
  while (ATTRIBUTE.lastIndex < end) {
    const attr = ATTRIBUTE.exec(header);
    if (!attr) return undefined;
    const name = attr[1] ?? '';
    const bit = Object.hasOwn(KNOWN, name) ? KNOWN[name]! : 0;
    if (bit === 0 || seen & bit) return undefined;
    seen |= bit;
    attributes[name as keyof HawkAttributes] = attr[2] ?? '';
  }
  const { id, ts, nonce, mac } = attributes;
  if (!id || !ts || !nonce || !mac || !/^\d{1,15}$/.test(ts)) return undefined;
  return attributes;
}

/** The normalized string of Hawk 1 for a request. */
export function normalizedString(request: HawkRequest): string {
  return [
    'hawk.1.header',
    request.ts,
    request.nonce,
    request.method.toUpperCase(),
    request.resource,
    request.host.toLowerCase(),
    String(request.port),
    request.hash ?? '',
    request.ext ?? '',
    '',
  ].join('\n');
}

/** Base64 HMAC-SHA256 of the normalized string, keyed with the Hawk key's text. */
export function computeMac(key: string, request: HawkRequest): string {
  return createHmac('sha256', key).update(normalizedString(request)).digest('base64');
}

/**
 * Hawk 1's payload hash: base64 SHA-256 of
 * `hawk.1.payload\n{content type without parameters, lower-case}\n{body}\n`.
 * A client that sends `hash` binds its body to the MAC with it.
 */
export function payloadHash(contentType: string | undefined, payload: string): string {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return createHash('sha256').update(`hawk.1.payload\n${mime}\n${payload}\n`).digest('base64');
}

/** Constant-time comparison of two base64 MACs. */
export function macEquals(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The `Authorization` header value a client sends (hawkauthlib's attribute order). */
export function buildHawkHeader(id: string, key: string, request: HawkRequest): string {
  const mac = computeMac(key, request);
  const parts = [`ts="${request.ts}"`, `nonce="${request.nonce}"`];
  if (request.hash) parts.push(`hash="${request.hash}"`);
  if (request.ext) parts.push(`ext="${request.ext}"`);
  parts.push(`id="${id}"`, `mac="${mac}"`);
  return `Hawk ${parts.join(', ')}`;
}

/** `tsm` for a stale-timestamp reply (Hawk 1): lets the client correct its clock. */
export function timestampMac(key: string, ts: string): string {
  return createHmac('sha256', key).update(`hawk.1.ts\n${ts}\n`).digest('base64');
}
