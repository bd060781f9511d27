/**
 * Pseudonymous ids of an account for metrics (syncstorage-rs
 * `fxa_metrics_hash` and `hash_device_id`): the first 32 hex digits of
 * HMAC-SHA256(metrics hash secret, fxa_uid), and of the same HMAC over that
 * hash followed by "none" (the device id OAuth requests do not have).
 */
import { createHmac } from 'node:crypto';

function hmacHex32(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('hex').slice(0, 32);
}

export function hashedFxaUid(metricsHashSecret: string, fxaUid: string): string {
  return hmacHex32(metricsHashSecret, fxaUid);
}

export function hashedDeviceId(metricsHashSecret: string, hashedUid: string): string {
  return hmacHex32(metricsHashSecret, `${hashedUid}none`);
}
