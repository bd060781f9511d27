/**
 * What the admin listener needs from the token server, when one runs in
 * this process: nodes to show and edit, users to find by FxA uid or email
 * and to retire. Absent, those endpoints answer 404 and the page hides them.
 * `tokenServerAdmin(store)` (token-server-store-admin.ts) implements it over
 * the token server's store, with the methods the `nodes` and `users`
 * commands use.
 */
export interface NodeInfo {
  id: number;
  service: string;
  node: string;
  capacity: number;
  available: number;
  currentLoad: number;
  downed: boolean;
  backoff: boolean;
}

export type NodeChange = Partial<Pick<NodeInfo, 'capacity' | 'available' | 'downed' | 'backoff'>>;

/** One `users` row of the token server. */
export interface TokenServerUser {
  uid: number;
  email: string;
  /** The part of the email before `@`. */
  fxaUid: string;
  /** The node's URL; null when its row is gone. */
  node: string | null;
  /** null for a retired user (its generation is the maximal marker). */
  generation: number | null;
  retired: boolean;
  keysChangedAt: number | null;
  clientState: string;
  /** ms since the epoch. */
  createdAt: number;
  /** ms since the epoch; null for the current record. */
  replacedAt: number | null;
}

export interface TokenServerAdmin {
  listNodes(): Promise<NodeInfo[]>;
  /** The node after the change; undefined when there is no such node. */
  updateNode(id: number, change: NodeChange): Promise<NodeInfo | undefined>;
  /** Retire the account whose record has this uid; false when it has no live record. */
  retireUser(uid: number): Promise<boolean>;
  /** Records (current and replaced) whose email starts with `search`, newest first. */
  findUsers(search: string, limit: number): Promise<TokenServerUser[]>;
  /** The record with this uid. */
  getUser(uid: number): Promise<TokenServerUser | undefined>;
  /** The records with these uids (at most 1000; the missing ones left out). */
  getUsers(uids: readonly number[]): Promise<TokenServerUser[]>;
}
