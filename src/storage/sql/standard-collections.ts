/**
 * Collection names with fixed ids, as server-syncstorage's
 * `STANDARD_COLLECTIONS` (1–11) extended by syncstorage-rs (12 addresses,
 * 13 creditcards). Other names get ids from `FIRST_CUSTOM_COLLECTION_ID` on:
 * 100 as the Python server (syncstorage-rs uses 101), so an old database's
 * custom ids stay where they are. Where an old database already holds one of
 * these names under another id, its row wins (see sql-schema.ts).
 */
export const STANDARD_COLLECTIONS: ReadonlyMap<string, number> = new Map([
  ['clients', 1],
  ['crypto', 2],
  ['forms', 3],
  ['history', 4],
  ['keys', 5],
  ['meta', 6],
  ['bookmarks', 7],
  ['prefs', 8],
  ['tabs', 9],
  ['passwords', 10],
  ['addons', 11],
  ['addresses', 12],
  ['creditcards', 13],
]);

export const FIRST_CUSTOM_COLLECTION_ID = 100;
