import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkCollection,
  emptyVerdict,
  type LedgerVerdict,
} from '../../src/loadtest/ledger-check.js';
import { WriteLedger } from '../../src/loadtest/write-ledger.js';

const UID = 7;
const item = (id: string, hash = `h-${id}`) => ({ id, hash });

function check(
  ledger: WriteLedger,
  collection: string,
  actual: Record<string, string>,
): LedgerVerdict {
  const verdict = emptyVerdict();
  const user = ledger.users.get(UID);
  assert.ok(user);
  checkCollection(UID, user, collection, new Map(Object.entries(actual)), verdict);
  return verdict;
}

function acked(
  ledger: WriteLedger,
  collection: string,
  items: { id: string; hash: string }[],
  modified = 1000,
): void {
  ledger.ackWrite(UID, collection, items, modified, ledger.begin());
}

describe('ledger check', () => {
  test('acknowledged items present with their payload are intact', () => {
    const ledger = new WriteLedger();
    acked(ledger, 'bookmarks', [item('a'), item('b')]);
    const verdict = check(ledger, 'bookmarks', { a: 'h-a', b: 'h-b', other: 'x' });
    assert.equal(verdict.checked, 2);
    assert.equal(verdict.intact, 2);
    assert.equal(verdict.lost + verdict.corrupt, 0);
  });

  test('a missing acknowledged item is lost, a changed one corrupt', () => {
    const ledger = new WriteLedger();
    acked(ledger, 'bookmarks', [item('a'), item('b')]);
    const verdict = check(ledger, 'bookmarks', { b: 'tampered' });
    assert.equal(verdict.lost, 1);
    assert.equal(verdict.corrupt, 1);
    assert.equal(verdict.samples.length, 2);
  });

  test('a later acknowledged write replaces the expected payload', () => {
    const ledger = new WriteLedger();
    acked(ledger, 'clients', [item('c', 'old')], 1000);
    acked(ledger, 'clients', [item('c', 'new')], 2000);
    assert.equal(check(ledger, 'clients', { c: 'new' }).intact, 1);
    assert.equal(check(ledger, 'clients', { c: 'old' }).corrupt, 1);
  });

  test('an unanswered write after the ack explains its own payload, nothing else', () => {
    const ledger = new WriteLedger();
    acked(ledger, 'clients', [item('c', 'acked')]);
    ledger.unknownWrite(UID, 'clients', [item('c', 'maybe')], ledger.begin());
    assert.equal(check(ledger, 'clients', { c: 'maybe' }).explained, 1);
    assert.equal(check(ledger, 'clients', { c: 'acked' }).intact, 1);
    assert.equal(check(ledger, 'clients', { c: 'other' }).corrupt, 1);
    assert.equal(check(ledger, 'clients', {}).lost, 1);
  });

  test('an unanswered delete explains missing items; an acknowledged delete removes them', () => {
    const ledger = new WriteLedger();
    acked(ledger, 'forms', [item('a')]);
    acked(ledger, 'history', [item('h')]);
    ledger.unknownDelete(UID, 'forms', ledger.begin());
    assert.equal(check(ledger, 'forms', {}).explained, 1);
    assert.equal(check(ledger, 'history', {}).lost, 1, 'another collection is not explained');
    ledger.ackDelete(UID, null, ledger.begin());
    assert.equal(check(ledger, 'history', {}).checked, 0);
  });

  test('a write acknowledged after an unanswered delete ended must survive it', () => {
    const ledger = new WriteLedger();
    ledger.unknownDelete(UID, null, ledger.begin());
    acked(ledger, 'forms', [item('a')]);
    assert.equal(check(ledger, 'forms', {}).lost, 1);
  });

  test('a write overlapping an acknowledged delete may be gone', () => {
    const ledger = new WriteLedger();
    const writeStart = ledger.begin();
    const deleteStart = ledger.begin();
    ledger.ackWrite(UID, 'forms', [item('a')], 1000, writeStart);
    ledger.ackDelete(UID, 'forms', deleteStart);
    assert.equal(check(ledger, 'forms', {}).explained, 1);
  });

  test('an unanswered multi-item write applied in part is half-applied', () => {
    const ledger = new WriteLedger();
    ledger.unknownWrite(UID, 'tabs', [item('x'), item('y'), item('z')], ledger.begin());
    assert.equal(check(ledger, 'tabs', {}).halfApplied, 0);
    assert.equal(check(ledger, 'tabs', { x: 'h-x', y: 'h-y', z: 'h-z' }).halfApplied, 0);
    assert.equal(check(ledger, 'tabs', { x: 'h-x', z: 'h-z' }).halfApplied, 1);
  });

  test('items of an uncommitted batch must not be visible', () => {
    const ledger = new WriteLedger();
    ledger.abandonBatch(UID, 'bookmarks', [item('p'), item('q')]);
    assert.deepEqual(ledger.collectionsOf(UID), ['bookmarks']);
    assert.equal(check(ledger, 'bookmarks', {}).uncommittedVisible, 0);
    assert.equal(check(ledger, 'bookmarks', { q: 'h-q' }).uncommittedVisible, 1);
  });

  test('counts acknowledged items and batch commits', () => {
    const ledger = new WriteLedger();
    ledger.ackWrite(UID, 'b', [item('1'), item('2')], 1, ledger.begin(), true);
    acked(ledger, 'b', [item('3')]);
    assert.equal(ledger.writesAcknowledged, 3);
    assert.equal(ledger.batchesCommitted, 1);
  });
});
