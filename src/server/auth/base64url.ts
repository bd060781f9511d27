/**
 * URL-safe base64 as tokenlib writes it: `-` and `_` instead of `+` and `/`,
 * WITH `=` padding (Python's `base64.urlsafe_b64encode`).
 */

export function encodeUrlsafe(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

const URLSAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decode urlsafe base64 (padding optional); undefined when it is not urlsafe base64. */
export function decodeUrlsafe(text: string): Buffer | undefined {
  if (!URLSAFE.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
