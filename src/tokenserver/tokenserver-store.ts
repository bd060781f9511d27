/**
 * The token server's tables over a `SqlDriver`: users, their node
 * assignments, and the nodes. Other tools (the CLI, Mozilla's scripts, an
 * operator's SQL) insert and delete rows while the server runs, so nothing
 * is cached but the id of the `sync-1.5` service: every request reads its
 * rows fresh, writes in short transactions, and commits before it answers.
 *
 * User records follow syncstorage-rs (`tokenserver-db-common` `Db`):
 * the current record is the one with the highest generation, then the
 * latest `created_at`; older ones are marked replaced. A replaced current
 * record, or one whose node row is gone, is reallocated on a node as a new
 * record (new uid) with the same account metadata. A retired user (generation
 * = i64::MAX) keeps its record and is refused by the generation rule.
 */
import type { SqlDriver, SqlExecutor, SqlValue } from '../sql/sql-types.js';
import { inWriteTransaction, onReadConnection } from '../sql/sql-transaction.js';
import { insertReturningId } from '../sql/insert-returning-id.js';
import { assignNode } from './node-assignment.js';
import { tokenserverErrors } from './tokenserver-errors.js';
import type { AssignmentKind, TokenserverObserver } from './tokenserver-observer.js';
import { migrateTokenserverSchema } from './tokenserver-schema.js';
import { isRetiredGeneration, MAX_GENERATION_SQL, type CurrentUser } from './user-rules.js';

/** One `users` row with its node's URL (null when the node row is gone). */
export interface UserRecord {
  uid: number;
  email: string;
  node: string | null;
  nodeId: number;
  generation: number;
  keysChangedAt: number | null;
  clientState: string;
  createdAt: number;
  replacedAt: number | null;
}

export interface NodeRecord {
  id: number;
  node: string;
  available: number;
  currentLoad: number;
  capacity: number;
  downed: number;
  backoff: number;
}

export interface NewUserClaims {
  email: string;
  generation: number;
  clientState: string;
  keysChangedAt: number | null;
}

export interface TokenserverStoreOptions {
  driver: SqlDriver;
  /** Close the driver with the store; false when it is shared with storage. Default false. */
  ownsDriver?: boolean;
  /** Wait for the write connection / row locks. Default 5000 ms. */
  lockTimeoutMs?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** Told about each committed assignment (the metrics). */
  observer?: Pick<TokenserverObserver, 'userAssigned'>;
}

const USER_COLUMNS = `users.uid, users.email, nodes.node, users.nodeid, users.generation,
  users.keys_changed_at, users.client_state, users.created_at, users.replaced_at`;

function num(value: SqlValue | undefined): number {
  return Number(value);
}
function numOrNull(value: SqlValue | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function toUser(row: SqlValue[]): UserRecord {
  return {
    uid: num(row[0]),
    email: String(row[1]),
    node: row[2] === null || row[2] === undefined ? null : String(row[2]),
    nodeId: num(row[3]),
    generation: num(row[4]),
    keysChangedAt: numOrNull(row[5]),
    clientState: String(row[6]),
    createdAt: num(row[7]),
    replacedAt: numOrNull(row[8]),
  };
}

const NODE_COLUMNS = 'id, node, available, current_load, capacity, downed, backoff';
function toNode(row: SqlValue[]): NodeRecord {
  return {
    id: num(row[0]),
    node: String(row[1]),
    available: num(row[2]),
    currentLoad: num(row[3]),
    capacity: num(row[4]),
    downed: num(row[5]),
    backoff: num(row[6]),
  };
}

export interface AllocationPolicy {
  /** False: a user with no record gets 403 new-users-disabled. */
  allowNewUsers: boolean;
  capacityReleaseRate: number;
}

export class TokenserverStore {
  readonly #driver: SqlDriver;
  readonly #ownsDriver: boolean;
  readonly #lockTimeoutMs: number;
  readonly #clock: () => number;
  readonly #observer: Pick<TokenserverObserver, 'userAssigned'> | undefined;
  #serviceId: number | undefined;

  constructor(options: TokenserverStoreOptions) {
    this.#driver = options.driver;
    this.#ownsDriver = options.ownsDriver ?? false;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 5000;
    this.#clock = options.clock ?? Date.now;
    this.#observer = options.observer;
  }

  get dialect(): SqlDriver['dialect'] {
    return this.#driver.dialect;
  }

  /** Create the tables if missing. Call once before use. */
  async migrate(): Promise<void> {
    this.#serviceId = await inWriteTransaction(this.#driver, 60_000, (executor) =>
      migrateTokenserverSchema(executor, this.#driver.dialect),
    );
  }

  get serviceId(): number {
    if (this.#serviceId === undefined) throw new Error('TokenserverStore.migrate() first');
    return this.#serviceId;
  }

  #write<T>(body: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    return inWriteTransaction(this.#driver, this.#lockTimeoutMs, body);
  }

  #read<T>(body: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    return onReadConnection(this.#driver, body);
  }

  // --- users ---------------------------------------------------------------

  /** The user's records, newest first (at most 20, as syncstorage-rs reads them). */
  async getUsers(email: string, executor?: SqlExecutor): Promise<UserRecord[]> {
    const query = (ex: SqlExecutor) =>
      ex.rows(
        `SELECT ${USER_COLUMNS} FROM users LEFT OUTER JOIN nodes ON users.nodeid = nodes.id
         WHERE users.email = ? AND users.service = ?
         ORDER BY users.created_at DESC, users.uid DESC LIMIT 20`,
        [email, this.serviceId],
      );
    const rows = executor ? await query(executor) : await this.#read(query);
    return rows.map(toUser);
  }

  /**
   * The user's current record, creating or reallocating one when needed.
   * Reads without a transaction first; only when something must be written
   * does it take the write transaction, read again inside it and write.
   */
  async getOrCreateUser(claims: NewUserClaims, policy: AllocationPolicy): Promise<CurrentUser> {
    const records = await this.getUsers(claims.email);
    const settled = settledUser(records);
    if (settled) return settled;
    if (records.length === 0 && !policy.allowNewUsers) throw tokenserverErrors.newUsersDisabled();
    let assigned: AssignmentKind | undefined;
    const user = await this.#write(async (executor) => {
      assigned = undefined;
      const fresh = await this.getUsers(claims.email, executor);
      return this.#resolve(executor, fresh, claims, policy, (kind) => (assigned = kind));
    });
    // Counted once committed: a transaction rolled back assigned nothing.
    if (assigned) this.#observer?.userAssigned(assigned);
    return user;
  }

  async #resolve(
    executor: SqlExecutor,
    records: UserRecord[],
    claims: NewUserClaims,
    policy: AllocationPolicy,
    assigned: (kind: AssignmentKind) => void,
  ): Promise<CurrentUser> {
    if (records.length === 0) {
      if (!policy.allowNewUsers) throw tokenserverErrors.newUsersDisabled();
      assigned('new_user');
      const { uid, node, createdAt } = await this.#allocate(executor, claims, policy);
      return {
        uid,
        node,
        generation: claims.generation,
        keysChangedAt: claims.keysChangedAt,
        clientState: claims.clientState,
        createdAt,
        firstSeenAt: createdAt,
        oldClientStates: [],
      };
    }
    const ordered = byCurrency(records);
    const current = ordered[0]!;
    // Races in row creation can leave older rows unmarked (syncstorage-rs comment).
    for (const old of ordered.slice(1)) {
      if (old.replacedAt === null) {
        await executor.run('UPDATE users SET replaced_at = ? WHERE service = ? AND uid = ?', [
          current.createdAt,
          this.serviceId,
          old.uid,
        ]);
      }
    }
    const base = describe(ordered);
    if ((current.replacedAt !== null || current.node === null) && !isRetired(current)) {
      // Reallocate with the stored account metadata, not the request's: it
      // has not been validated yet.
      const { uid, node, createdAt } = await this.#allocate(
        executor,
        {
          email: current.email,
          generation: current.generation,
          clientState: current.clientState,
          keysChangedAt: current.keysChangedAt,
        },
        policy,
      );
      assigned('reassignment');
      return { ...base, uid, node, createdAt };
    }
    if (current.node === null) {
      // Retired and its node is gone: refused like any retired user.
      throw tokenserverErrors.invalidGeneration('retired user');
    }
    return base;
  }

  async #allocate(
    executor: SqlExecutor,
    claims: NewUserClaims,
    policy: AllocationPolicy,
  ): Promise<{ uid: number; node: string; createdAt: number }> {
    const node = await assignNode(executor, this.serviceId, policy.capacityReleaseRate);
    const createdAt = this.#clock();
    const uid = await this.#insertUser(executor, claims, node.id, createdAt);
    return { uid, node: node.node, createdAt };
  }

  async #insertUser(
    executor: SqlExecutor,
    claims: NewUserClaims,
    nodeId: number,
    createdAt: number,
  ): Promise<number> {
    return insertReturningId(
      executor,
      this.#driver.dialect,
      `INSERT INTO users (service, email, generation, client_state, created_at, nodeid,
         keys_changed_at, replaced_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
      [
        this.serviceId,
        claims.email,
        claims.generation,
        claims.clientState,
        createdAt,
        nodeId,
        claims.keysChangedAt,
      ],
      'uid',
    );
  }

  /**
   * A new client state: a new record (new uid) on the user's node, and every
   * older record marked replaced (syncstorage-rs `post_user` + `replace_users`).
   */
  async replaceWithNewClientState(claims: NewUserClaims, node: string): Promise<number> {
    const uid = await this.#write(async (executor) => {
      const row = await executor.get<{ id: number }>(
        'SELECT id FROM nodes WHERE service = ? AND node = ?',
        [this.serviceId, node],
      );
      if (!row) throw tokenserverErrors.unavailable(`node ${node} disappeared`);
      const now = this.#clock();
      const uid = await this.#insertUser(executor, claims, Number(row.id), now);
      await executor.run(
        `UPDATE users SET replaced_at = ?
         WHERE service = ? AND email = ? AND replaced_at IS NULL AND created_at < ?`,
        [now, this.serviceId, claims.email, now],
      );
      // A record created in the same millisecond is older too (not the new one).
      await executor.run(
        `UPDATE users SET replaced_at = ?
         WHERE service = ? AND email = ? AND replaced_at IS NULL AND uid <> ? AND created_at = ?`,
        [now, this.serviceId, claims.email, uid, now],
      );
      return uid;
    });
    this.#observer?.userAssigned('new_client_state');
    return uid;
  }

  /**
   * New generation / keys_changed_at in place; never moves them backwards
   * (the WHERE clause of syncstorage-rs `put_user`).
   */
  async updateUser(email: string, generation: number, keysChangedAt: number | null): Promise<void> {
    await this.#write((executor) =>
      executor.run(
        `UPDATE users SET generation = ?, keys_changed_at = ?
         WHERE service = ? AND email = ? AND generation <= ?
           AND COALESCE(keys_changed_at, 0) <= COALESCE(?, keys_changed_at, 0)
           AND replaced_at IS NULL`,
        [generation, keysChangedAt, this.serviceId, email, generation, keysChangedAt],
      ),
    );
  }

  /**
   * Retire a user (their FxA account is gone): every live record replaced and
   * given the maximal generation, so no token is issued for it again.
   */
  async retireUser(email: string): Promise<number> {
    return this.#write((executor) =>
      executor.run(
        `UPDATE users SET replaced_at = ?, generation = ?
         WHERE service = ? AND email = ? AND replaced_at IS NULL`,
        [this.#clock(), MAX_GENERATION_SQL, this.serviceId, email],
      ),
    );
  }

  /**
   * Users for the CLI and the admin page, newest first; with `emailPrefix`,
   * only emails starting with it (an FxA uid's first digits, or a whole
   * email). A prefix search scans the service's rows on PostgreSQL (its
   * btree index serves LIKE only under the C collation): fine for an
   * operator's occasional look-up.
   */
  async listUsers(options: {
    limit: number;
    includeReplaced: boolean;
    emailPrefix?: string;
  }): Promise<UserRecord[]> {
    const prefix = options.emailPrefix ?? '';
    const where = [
      'users.service = ?',
      ...(options.includeReplaced ? [] : ['users.replaced_at IS NULL']),
      ...(prefix === '' ? [] : ["users.email LIKE ? ESCAPE '!'"]),
    ];
    const rows = await this.#read((executor) =>
      executor.rows(
        `SELECT ${USER_COLUMNS} FROM users LEFT OUTER JOIN nodes ON users.nodeid = nodes.id
         WHERE ${where.join(' AND ')}
         ORDER BY users.created_at DESC, users.uid DESC LIMIT ?`,
        [
          this.serviceId,
          ...(prefix === '' ? [] : [`${prefix.replace(/[!%_]/g, '!$&')}%`]),
          options.limit,
        ],
      ),
    );
    return rows.map(toUser);
  }

  async getUserByUid(uid: number): Promise<UserRecord | undefined> {
    return (await this.getUsersByUid([uid]))[0];
  }

  /** The records with these uids (at most 1000), in no particular order. */
  async getUsersByUid(uids: readonly number[]): Promise<UserRecord[]> {
    if (uids.length === 0) return [];
    if (uids.length > 1000) throw new RangeError('getUsersByUid: at most 1000 uids');
    const rows = await this.#read((executor) =>
      executor.rows(
        `SELECT ${USER_COLUMNS} FROM users LEFT OUTER JOIN nodes ON users.nodeid = nodes.id
         WHERE users.uid IN (${uids.map(() => '?').join(', ')})`,
        [...uids],
      ),
    );
    return rows.map(toUser);
  }

  /** Records replaced before `before` (ms), by uid after `afterUid`: storage to purge. */
  async replacedBefore(before: number, afterUid: number, limit: number): Promise<UserRecord[]> {
    const rows = await this.#read((executor) =>
      executor.rows(
        `SELECT ${USER_COLUMNS} FROM users LEFT OUTER JOIN nodes ON users.nodeid = nodes.id
         WHERE users.service = ? AND users.replaced_at IS NOT NULL AND users.replaced_at < ?
           AND users.uid > ?
         ORDER BY users.uid LIMIT ?`,
        [this.serviceId, before, afterUid, limit],
      ),
    );
    return rows.map(toUser);
  }

  async deleteUserRecord(uid: number): Promise<void> {
    await this.#write((executor) =>
      executor.run('DELETE FROM users WHERE service = ? AND uid = ?', [this.serviceId, uid]),
    );
  }

  // --- nodes ---------------------------------------------------------------

  async listNodes(): Promise<NodeRecord[]> {
    const rows = await this.#read((executor) =>
      executor.rows(`SELECT ${NODE_COLUMNS} FROM nodes WHERE service = ? ORDER BY id`, [
        this.serviceId,
      ]),
    );
    return rows.map(toNode);
  }

  async getNode(node: string): Promise<NodeRecord | undefined> {
    const rows = await this.#read((executor) =>
      executor.rows(`SELECT ${NODE_COLUMNS} FROM nodes WHERE service = ? AND node = ?`, [
        this.serviceId,
        node,
      ]),
    );
    return rows[0] && toNode(rows[0]);
  }

  /**
   * Add a node, or (with `capacity` given) set the capacity of an existing
   * one; otherwise leave it as it is. syncstorage-rs's `init_node_url`
   * starts a node with `available = 1`, and capacity release opens the rest.
   * Returns whether a row was inserted.
   */
  async ensureNode(node: string, capacity: number, updateCapacity: boolean): Promise<boolean> {
    return this.#write(async (executor) => {
      const inserted = await executor.run(
        `INSERT INTO nodes (service, node, available, current_load, capacity, downed, backoff)
         VALUES (?, ?, 1, 0, ?, 0, 0) ${this.#driver.dialect.ignoreDuplicate('service')}`,
        [this.serviceId, node, capacity],
      );
      if (inserted === 0 && updateCapacity) {
        await executor.run('UPDATE nodes SET capacity = ? WHERE service = ? AND node = ?', [
          capacity,
          this.serviceId,
          node,
        ]);
      }
      return inserted > 0;
    });
  }

  /** Add a node with every column given. Throws when it exists. */
  async addNode(fields: Omit<NodeRecord, 'id'>): Promise<void> {
    await this.#write(async (executor) => {
      const exists = await executor.get('SELECT id FROM nodes WHERE service = ? AND node = ?', [
        this.serviceId,
        fields.node,
      ]);
      if (exists) throw new NodeExistsError(fields.node);
      await executor.run(
        `INSERT INTO nodes (service, node, available, current_load, capacity, downed, backoff)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [
          this.serviceId,
          fields.node,
          fields.available,
          fields.currentLoad,
          fields.capacity,
          fields.downed,
          fields.backoff,
        ],
      );
    });
  }

  /** Change some columns of a node. Returns false when there is no such node. */
  async setNode(
    node: string,
    fields: Partial<Pick<NodeRecord, 'available' | 'capacity' | 'downed' | 'backoff'>>,
  ): Promise<boolean> {
    const columns = {
      available: fields.available,
      capacity: fields.capacity,
      downed: fields.downed,
      backoff: fields.backoff,
    };
    const set = Object.entries(columns).filter(([, value]) => value !== undefined);
    if (set.length === 0) return (await this.getNode(node)) !== undefined;
    const changed = await this.#write((executor) =>
      executor.run(
        `UPDATE nodes SET ${set.map(([column]) => `${column} = ?`).join(', ')}
         WHERE service = ? AND node = ?`,
        [...set.map(([, value]) => value as number), this.serviceId, node],
      ),
    );
    return changed > 0;
  }

  /**
   * Mark every live user of a node replaced, so each is moved to another
   * node at its next request (Mozilla's `unassign_node`). Returns the count.
   */
  async unassignNode(node: string): Promise<number> {
    return this.#write(async (executor) => {
      const row = await executor.get<{ id: number }>(
        'SELECT id FROM nodes WHERE service = ? AND node = ?',
        [this.serviceId, node],
      );
      if (!row) return 0;
      return executor.run(
        'UPDATE users SET replaced_at = ? WHERE nodeid = ? AND replaced_at IS NULL',
        [this.#clock(), Number(row.id)],
      );
    });
  }

  async healthCheck(): Promise<boolean> {
    try {
      const row = await this.#read((executor) => executor.get<{ ok: number }>('SELECT 1 AS ok'));
      return Number(row?.ok) === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#ownsDriver) await this.#driver.close();
  }
}

export class NodeExistsError extends Error {
  readonly code = 'NODE_EXISTS';
  constructor(readonly node: string) {
    super(`node ${node} already exists`);
    this.name = 'NodeExistsError';
  }
}

function isRetired(record: UserRecord): boolean {
  return isRetiredGeneration(record.generation);
}

/** Current record first: highest generation, then latest created_at (syncstorage-rs). */
function byCurrency(records: readonly UserRecord[]): UserRecord[] {
  return [...records].sort((a, b) =>
    a.generation !== b.generation ? b.generation - a.generation : b.createdAt - a.createdAt,
  );
}

function describe(ordered: readonly UserRecord[]): CurrentUser {
  const current = ordered[0]!;
  return {
    uid: current.uid,
    node: current.node ?? '',
    generation: current.generation,
    keysChangedAt: current.keysChangedAt,
    clientState: current.clientState,
    createdAt: current.createdAt,
    firstSeenAt: ordered[ordered.length - 1]!.createdAt,
    oldClientStates: ordered
      .slice(1)
      .map((r) => r.clientState)
      .filter((state) => state !== current.clientState),
  };
}

/**
 * The current user when reading was enough: a live current record with a
 * node, every older record already marked replaced. Undefined when
 * something must be written first (or there is no record).
 */
function settledUser(records: readonly UserRecord[]): CurrentUser | undefined {
  if (records.length === 0) return undefined;
  const ordered = byCurrency(records);
  const current = ordered[0]!;
  if (ordered.slice(1).some((old) => old.replacedAt === null)) return undefined;
  if (current.node === null) return undefined;
  if (current.replacedAt !== null && !isRetired(current)) return undefined;
  return describe(ordered);
}
