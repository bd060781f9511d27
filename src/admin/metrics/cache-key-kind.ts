/**
 * The kind of entry a cached layer key names, for cache metrics by kind:
 * `metadata`, `lock`, `batches`, or per collection `cached` / `cache-only`
 * (`other` for anything else). Reads the layout `CacheKeys` builds
 * (`storage/cached/cache-keys.ts`); a test builds keys with `CacheKeys` and
 * classifies them, so the two cannot drift apart unnoticed.
 */
export function cacheKeyKind(
  prefix: string,
  cacheOnlyCollections: ReadonlySet<string>,
): (key: string) => string {
  return (key) => {
    if (!key.startsWith(prefix)) return 'other';
    const match = /^\d+:(metadata|lock:|c:)(.*)$/.exec(key.slice(prefix.length));
    if (!match) return 'other';
    if (match[1] === 'metadata') return 'metadata';
    if (match[1] === 'lock:') return 'lock';
    const rest = match[2]!;
    if (rest.endsWith(':batches')) return 'batches';
    return cacheOnlyCollections.has(rest) ? 'cache-only' : 'cached';
  };
}
