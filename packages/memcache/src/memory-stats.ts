/**
 * The in-process store's counters, named and rendered as memcached's `stats`
 * (protocol.txt, "General-purpose statistics") so dashboards and the cache
 * toolkit read both stores the same way.
 */

export class MemoryStats {
  cmd_get = 0;
  cmd_set = 0;
  cmd_touch = 0;
  get_hits = 0;
  get_misses = 0;
  get_expired = 0;
  delete_hits = 0;
  delete_misses = 0;
  incr_hits = 0;
  incr_misses = 0;
  decr_hits = 0;
  decr_misses = 0;
  cas_hits = 0;
  cas_misses = 0;
  cas_badval = 0;
  touch_hits = 0;
  touch_misses = 0;
  cmd_flush = 0;
  total_items = 0;
  evictions = 0;
  /** Expired items whose memory was taken back to make room. */
  reclaimed = 0;

  /** Every counter plus the gauges, as strings (the wire format of `stats`). */
  render(gauges: Record<string, number | string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries({ ...gauges, ...this })) {
      out[name] = String(value);
    }
    return out;
  }
}
