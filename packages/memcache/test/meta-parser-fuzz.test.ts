/**
 * The memcached response parser against any TCP segmentation: a stream of
 * well-framed meta responses parses to the same responses whether it
 * arrives whole, split at any one byte boundary, in random chunks, or one
 * byte at a time; and garbage only ever raises CacheProtocolError.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CacheProtocolError } from '../src/errors.js';
import { MetaParser } from '../src/meta-parser.js';
import { fuzzRuns } from '@syncstorage-ts/test-support';

interface Parsed {
  line: string;
  data: string | undefined;
}

/** One response on the wire, and what the parser must report for it. */
interface WireResponse {
  bytes: Buffer;
  expected: Parsed;
}

const flag = fc
  .tuple(
    fc.constantFrom('c', 'f', 't', 'k', 's', 'O', 'W', 'X', 'Z'),
    fc.stringMatching(/^[0-9a-z]{0,8}$/),
  )
  .map(([name, value]) => `${name}${value}`);

const simpleLine = fc.oneof(
  fc.constantFrom('HD', 'EN', 'NF', 'NS', 'EX', 'MN', 'OK', 'END', 'ERROR'),
  fc
    .tuple(fc.constantFrom('HD', 'NF', 'EN'), fc.array(flag, { maxLength: 4 }))
    .map(([code, flags]) => [code, ...flags].join(' ')),
  fc.stringMatching(/^[ -~]{0,40}$/).map((msg) => `CLIENT_ERROR ${msg}`),
  fc.stringMatching(/^[ -~]{0,40}$/).map((msg) => `SERVER_ERROR ${msg}`),
  fc.stringMatching(/^[0-9.]{1,10}$/).map((v) => `VERSION ${v}`),
);

const lineResponse = simpleLine
  // A line must not look like a value header.
  .filter((line) => !line.startsWith('VA '))
  .map<WireResponse>((line) => ({
    bytes: Buffer.from(`${line}\r\n`, 'latin1'),
    expected: { line, data: undefined },
  }));

// Data may hold \r, \n and "\r\n": only the size frames it.
const valueResponse = fc
  .tuple(
    fc.uint8Array({ maxLength: 64 }),
    fc.constantFrom(new Uint8Array([13, 10]), new Uint8Array([86, 65, 32, 49, 13, 10])),
    fc.boolean(),
    fc.array(flag, { maxLength: 3 }),
  )
  .map<WireResponse>(([random, tricky, withTricky, flags]) => {
    const data = Buffer.concat([
      Buffer.from(random),
      withTricky ? Buffer.from(tricky) : Buffer.alloc(0),
    ]);
    const line = ['VA', String(data.length), ...flags].join(' ');
    return {
      bytes: Buffer.concat([Buffer.from(`${line}\r\n`, 'latin1'), data, Buffer.from('\r\n')]),
      expected: { line, data: data.toString('latin1') },
    };
  });

const stream = fc.array(fc.oneof(lineResponse, valueResponse), { minLength: 1, maxLength: 12 });

function parseChunks(chunks: Buffer[]): Parsed[] {
  const out: Parsed[] = [];
  const parser = new MetaParser((line, data) =>
    out.push({ line, data: data === undefined ? undefined : Buffer.from(data).toString('latin1') }),
  );
  for (const chunk of chunks) parser.feed(chunk);
  return out;
}

describe('meta parser fuzzing', () => {
  test('a response stream parses the same split at every byte boundary', () => {
    fc.assert(
      fc.property(stream, (responses) => {
        const wire = Buffer.concat(responses.map((r) => r.bytes));
        const expected = responses.map((r) => r.expected);
        assert.deepEqual(parseChunks([wire]), expected);
        for (let cut = 1; cut < wire.length; cut++) {
          // Copies: the parser may keep references to what it was fed.
          const head = Buffer.from(wire.subarray(0, cut));
          const tail = Buffer.from(wire.subarray(cut));
          assert.deepEqual(parseChunks([head, tail]), expected, `split at byte ${cut}`);
        }
      }),
      { numRuns: fuzzRuns(150) },
    );
  });

  test('a response stream parses the same in random chunks and byte by byte', () => {
    fc.assert(
      fc.property(
        stream,
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }),
        (responses, sizes) => {
          const wire = Buffer.concat(responses.map((r) => r.bytes));
          const expected = responses.map((r) => r.expected);
          const chunks: Buffer[] = [];
          for (let pos = 0, i = 0; pos < wire.length; i++) {
            const size = sizes[i % sizes.length] as number;
            chunks.push(Buffer.from(wire.subarray(pos, pos + size)));
            pos += size;
          }
          assert.deepEqual(parseChunks(chunks), expected);
          const bytes = [...wire].map((b) => Buffer.from([b]));
          assert.deepEqual(parseChunks(bytes), expected);
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });

  test('garbage raises CacheProtocolError or parses, never anything else', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        try {
          parseChunks(chunks.map((c) => Buffer.from(c)));
        } catch (error) {
          assert.ok(error instanceof CacheProtocolError, String(error));
        }
      }),
      { numRuns: fuzzRuns(500) },
    );
  });
});
