/**
 * How storage values look on the wire (API.md "Timestamps", "BSOs"):
 * timestamps as seconds with two decimals, BSOs without their expiry.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toWire } from '../../storage/timestamps.js';
import type { Bso } from '../../storage/sync-storage.js';

/** ms → seconds as a JSON number (1700000000120 → 1700000000.12). */
export function wireSeconds(ms: number): number {
  return Number(toWire(ms));
}

export interface WireBso {
  id: string;
  modified: number;
  payload: string;
  sortindex?: number;
}

/** A BSO as GET returns it: no ttl/expiry field (API.md), sortindex only when set. */
export function bsoToWire(bso: Bso): WireBso {
  const wire: WireBso = { id: bso.id, modified: wireSeconds(bso.modified), payload: bso.payload };
  if (bso.sortindex !== null) wire.sortindex = bso.sortindex;
  return wire;
}

/** X-Last-Modified, and remember it so X-Weave-Timestamp is never older. */
export function setLastModified(request: FastifyRequest, reply: FastifyReply, ms: number): void {
  reply.header('X-Last-Modified', toWire(ms));
  request.syncTimestamp = Math.max(request.syncTimestamp, ms);
}

/** A write: X-Last-Modified and X-Weave-Timestamp are the write's timestamp (API.md "Headers"). */
export function setWriteTimestamp(request: FastifyRequest, reply: FastifyReply, ms: number): void {
  setLastModified(request, reply, ms);
  reply.header('X-Weave-Timestamp', toWire(ms));
}

export function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type('application/json').send(JSON.stringify(body));
}
