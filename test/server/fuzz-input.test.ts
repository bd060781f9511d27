import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createHarness, type Harness } from './support/server-harness.js';

// "Never a 500 for bad input": random query strings, headers and bodies on
// every route, each answered with a status below 500.

describe('random input', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());

  const paths = [
    '/info/collections',
    '/info/quota',
    '/storage/bookmarks',
    '/storage/bookmarks/item',
    '/storage',
    '',
  ];
  const methods = ['GET', 'POST', 'PUT', 'DELETE'] as const;
  const queryValue = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.integer().map(String),
    fc.double().map(String),
    fc.constantFrom('true', '', 'newest', 'index', '1700000000.00', 'a,b,c'),
  );
  const query = fc.dictionary(
    fc.constantFrom(
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
    ),
    queryValue,
    { maxKeys: 4 },
  );
  const body = fc.oneof(
    fc.json(),
    fc.string({ maxLength: 50 }),
    fc
      .array(
        fc.record(
          {
            id: fc.oneof(fc.string({ maxLength: 70 }), fc.integer()),
            payload: fc.oneof(fc.string({ maxLength: 20 }), fc.integer()),
            sortindex: fc.oneof(fc.integer(), fc.double(), fc.string()),
            ttl: fc.oneof(fc.integer(), fc.double()),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 5 },
      )
      .map((items) => JSON.stringify(items)),
  );
  const headerValue = fc.oneof(fc.string({ maxLength: 15 }), fc.double().map(String));

  test('no request is answered with a 5xx', async () => {
    const client = h.client(77);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...methods),
        fc.constantFrom(...paths),
        query,
        fc.option(body),
        fc.constantFrom('application/json', 'text/plain', 'application/newlines', 'image/png'),
        fc.dictionary(
          fc.constantFrom(
            'x-if-modified-since',
            'x-if-unmodified-since',
            'x-weave-records',
            'x-weave-total-bytes',
            'accept',
          ),
          headerValue,
          { maxKeys: 2 },
        ),
        async (method, path, params, payload, contentType, headers) => {
          const search = new URLSearchParams(params).toString();
          const res = await client.request(method, `${path}${search ? `?${search}` : ''}`, {
            headers: Object.fromEntries(
              Object.entries(headers).filter(([, v]) => /^[\t\x20-\x7e]*$/.test(v)),
            ),
            ...(payload === null ? {} : { body: payload, contentType }),
          });
          assert.ok(res.status < 500, `${method} ${path}?${search} → ${res.status}`);
        },
      ),
      { numRuns: 300 },
    );
  });
});
