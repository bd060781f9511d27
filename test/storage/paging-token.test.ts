import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidOffsetError } from '../../src/storage/errors.js';
import { decodeOffset, encodeNextOffset } from '../../src/storage/paging-token.js';

test('bound:offset counts the trailing items that share the last timestamp', () => {
  const page = [{ modified: 50 }, { modified: 40 }, { modified: 40 }];
  assert.equal(encodeNextOffset('newest', undefined, page, { modified: 40 }), '40:2');
  assert.deepEqual(decodeOffset('40:2', 'newest', {}), { kind: 'time', bound: 40, skip: 2 });
});

test('a page entirely at the previous bound carries the earlier skip forward', () => {
  const page = [{ modified: 40 }, { modified: 40 }];
  const position = { kind: 'time' as const, bound: 40, skip: 2 };
  assert.equal(encodeNextOffset('newest', position, page, { modified: 40 }), '40:4');
  // Not when the bound moved.
  assert.equal(
    encodeNextOffset('oldest', { kind: 'time', bound: 30, skip: 5 }, page, { modified: 40 }),
    '40:2',
  );
});

test('sort=index uses a plain row offset', () => {
  assert.equal(encodeNextOffset('index', undefined, [{ modified: 1 }], { modified: 1 }), '1');
  assert.equal(
    encodeNextOffset('index', { kind: 'index', skip: 10 }, [{ modified: 1 }, { modified: 1 }], {
      modified: 1,
    }),
    '12',
  );
  assert.deepEqual(decodeOffset('12', 'index', {}), { kind: 'index', skip: 12 });
});

test('any string is either a well-formed token or InvalidOffsetError, never another error', () => {
  fc.assert(
    fc.property(
      fc.string(),
      fc.constantFrom('newest', 'oldest', 'index'),
      fc.option(fc.nat()),
      (token, sort, newer) => {
        try {
          const position = decodeOffset(token, sort, newer === null ? {} : { newer });
          if (position.kind === 'time') {
            assert.equal(`${position.bound}:${position.skip}`, token);
          } else {
            assert.equal(String(position.skip), token);
          }
        } catch (error) {
          assert.ok(error instanceof InvalidOffsetError, String(error));
        }
      },
    ),
    { numRuns: 2000 },
  );
});
