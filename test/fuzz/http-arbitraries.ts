/**
 * fast-check generators of hostile HTTP requests for the SyncStorage API:
 * paths with odd collection names and ids, query strings with malformed
 * values, precondition and size headers, bodies from valid BSO lists to
 * broken JSON, and Authorization headers from garbage to almost-right Hawk.
 */
import fc from 'fast-check';

const printable = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength,
  });

/** Text for a path segment: valid names, encoded anything, broken escapes. */
export const segment = fc.oneof(
  fc.constantFrom('bookmarks', 'meta', 'clients', 'tabs', 'history', 'global', 'a', 'x'.repeat(33)),
  fc.stringMatching(/^[a-zA-Z0-9._-]{1,40}$/),
  fc.string({ maxLength: 70 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
  fc.constantFrom('%', '%zz', '%00', '%2F', '..', '.', '%0A', 'a%20b', '%FF%FE', '~'),
);

const numberish = fc.oneof(
  fc.constantFrom('', '0', '-1', '1e309', 'NaN', 'Infinity', '0x10', '1.', '.5', '1700000000.123'),
  fc.double().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.stringMatching(/^[0-9]{1,40}$/),
);

const queryValue = fc.oneof(
  numberish,
  fc.constantFrom('true', 'false', '1', 'newest', 'oldest', 'index', 'random', ',,,', 'a,b,c'),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.array(segment, { maxLength: 120 }).map((ids) => ids.join(',')),
);

/** A query string; `batchIds` are ids worth trying (another user's, an old one). */
export function queryString(batchIds: readonly string[]): fc.Arbitrary<string> {
  const key = fc.constantFrom(
    'ids',
    'newer',
    'older',
    'full',
    'limit',
    'offset',
    'sort',
    'batch',
    'commit',
    'x',
    '',
  );
  const pair = fc.oneof(
    fc.tuple(key, queryValue),
    fc.tuple(fc.constant('batch'), fc.constantFrom('true', ...batchIds)),
    fc.tuple(fc.constant('commit'), fc.constant('true')),
  );
  return fc
    .array(pair, { maxLength: 6 })
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));
}

/** Mostly real collection names, so requests get past routing to the handlers. */
const collection = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('bookmarks', 'meta', 'clients', 'tabs', 'history') },
  { weight: 1, arbitrary: segment },
);

/** A path under /1.5/{uid} (without the prefix). */
export const relativePath = fc.oneof(
  fc.constantFrom('', '/', '/storage', '/storage/', '/info', '/info/'),
  { weight: 3, arbitrary: collection.map((c) => `/storage/${c}`) },
  { weight: 2, arbitrary: fc.tuple(collection, segment).map(([c, id]) => `/storage/${c}/${id}`) },
  fc
    .oneof(
      fc.constantFrom(
        'collections',
        'quota',
        'collection_usage',
        'collection_counts',
        'configuration',
      ),
      segment,
    )
    .map((name) => `/info/${name}`),
  fc.tuple(segment, segment, segment).map((parts) => `/storage/${parts.join('/')}`),
);

export const method = fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');

const bsoLike = fc.record(
  {
    id: fc.oneof(segment, fc.string({ maxLength: 70 }), fc.integer(), fc.constant(null)),
    payload: fc.oneof(fc.string({ maxLength: 200 }), fc.integer(), fc.jsonValue()),
    sortindex: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 }), fc.constant(null)),
    ttl: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 })),
    modified: fc.double(),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

/** BSOs a client would send, so that writes and batches get past validation. */
const validBso = fc.record(
  {
    id: fc.stringMatching(/^[a-z0-9]{1,8}$/),
    payload: fc.string({ maxLength: 100 }),
    sortindex: fc.integer({ min: -999_999_999, max: 999_999_999 }),
    ttl: fc.integer({ min: 0, max: 999_999_999 }),
  },
  { requiredKeys: ['id'] },
);

/** A body and its content type (undefined: no body). */
export const body: fc.Arbitrary<{ text: string; type: string } | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({
    text: fc.oneof(
      fc.array(bsoLike, { maxLength: 120 }).map((list) => JSON.stringify(list)),
      fc
        .uniqueArray(validBso, { selector: (b) => b.id, maxLength: 30 })
        .map((l) => JSON.stringify(l)),
      validBso.map((bso) => JSON.stringify(bso)),
      bsoLike.map((bso) => JSON.stringify(bso)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      fc.constantFrom('[{', '{"id":', '[]', '{}', 'null', '"x"', '1', '[1,2]', '\u0000', '\n\n'),
      fc.array(bsoLike, { maxLength: 10 }).map((l) => l.map((b) => JSON.stringify(b)).join('\n')),
    ),
    type: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/newlines',
      'application/json; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
      'garbage',
    ),
  }),
);

/** Extra request headers: preconditions, size announcements, Accept. */
export const headers: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.constantFrom(
    'x-if-modified-since',
    'x-if-unmodified-since',
    'x-weave-records',
    'x-weave-bytes',
    'x-weave-total-records',
    'x-weave-total-bytes',
    'accept',
    'x-forwarded-host',
    'origin',
  ),
  fc.oneof(
    numberish,
    fc.constantFrom('application/json', 'application/newlines', '*/*', 'text/html', 'a/b;q=x'),
    printable(60),
  ),
  { maxKeys: 4 },
);

/** How to spoil an Authorization header: replace it, or change one character of its MAC or token. */
export type AuthSpoiler =
  | { kind: 'replace'; value: string }
  | { kind: 'mangle'; attribute: 'mac' | 'id'; at: number; char: string };

export const authSpoiler: fc.Arbitrary<AuthSpoiler> = fc.oneof(
  printable(200).map((value) => ({ kind: 'replace' as const, value })),
  fc
    .constantFrom('', 'Hawk', 'Hawk ', 'Bearer x', 'Basic dXNlcjpwYXNz', 'hawk id=""')
    .map((value) => ({ kind: 'replace' as const, value })),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('id', 'ts', 'nonce', 'mac', 'hash', 'ext', 'app', 'dlg', 'zz'),
        printable(40).map((v) => v.replace(/["\\]/g, '')),
      ),
      { maxLength: 8 },
    )
    .map((attrs) => ({
      kind: 'replace' as const,
      value: `Hawk ${attrs.map(([k, v]) => `${k}="${v}"`).join(', ')}`,
    })),
  // Elsewhere a changed character may still be valid ("Hawk" is case-insensitive).
  fc.record({
    kind: fc.constant('mangle' as const),
    attribute: fc.constantFrom('mac' as const, 'id' as const),
    at: fc.nat(),
    char: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  }),
);

/** Apply a spoiler to a valid header; undefined when it would leave the header unchanged. */
export function spoil(valid: string, spoiler: AuthSpoiler): string | undefined {
  if (spoiler.kind === 'replace') return spoiler.value === valid ? undefined : spoiler.value;
  const match = new RegExp(`${spoiler.attribute}="([^"]*)"`).exec(valid);
  if (!match?.[1]) return undefined;
  const start = match.index + spoiler.attribute.length + 2;
  const at = start + (spoiler.at % match[1].length);
  if (valid[at] === spoiler.char || spoiler.char === '"') return undefined;
  return valid.slice(0, at) + spoiler.char + valid.slice(at + 1);
}
