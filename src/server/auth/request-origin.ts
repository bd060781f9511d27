/**
 * The host and port a client signed (Hawk MAC covers both). Behind a reverse
 * proxy these are the client's, from X-Forwarded-*; those headers are
 * honoured only when the operator says the proxy is trusted, else anyone
 * could pick the host their MAC is checked against (API.md "Authentication").
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface RequestOrigin {
  host: string;
  port: number;
  /** http or https: not in the MAC, but it decides the default port (and a log line names it). */
  scheme: string;
}

/** The first of a comma-separated header's values (a proxy chain appends). */
function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const comma = text.indexOf(',');
  return (comma === -1 ? text : text.slice(0, comma)).trim() || undefined;
}

/** "[::1]:8000" → ["::1", "8000"]; "example.com" → ["example.com", undefined]. */
function splitHostPort(hostHeader: string): [string, string | undefined] {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostHeader);
  if (v6) return [v6[1] ?? '', v6[2]];
  const colon = hostHeader.lastIndexOf(':');
  if (colon === -1) return [hostHeader, undefined];
  return [hostHeader.slice(0, colon), hostHeader.slice(colon + 1)];
}

export function requestOrigin(
  headers: IncomingHttpHeaders,
  encrypted: boolean,
  trustProxy: boolean,
): RequestOrigin | undefined {
  let protocol = encrypted ? 'https' : 'http';
  let hostHeader = first(headers.host);
  let forwardedPort: string | undefined;
  if (trustProxy) {
    protocol = first(headers['x-forwarded-proto'])?.toLowerCase() ?? protocol;
    hostHeader = first(headers['x-forwarded-host']) ?? hostHeader;
    forwardedPort = first(headers['x-forwarded-port']);
  }
  if (!hostHeader) return undefined;
  const [host, hostPort] = splitHostPort(hostHeader);
  const portText = forwardedPort ?? hostPort ?? (protocol === 'https' ? '443' : '80');
  if (!/^\d{1,5}$/.test(portText) || !host) return undefined;
  return { host, port: Number(portText), scheme: protocol };
}
