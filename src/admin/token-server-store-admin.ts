/**
 * `TokenServerAdmin` over the token server's store, with the store's own
 * methods (the ones `syncstorage nodes` and `syncstorage users` use), so
 * the page, the CLI and the server read and change the same rows the same
 * way. Nothing is cached: other tools change these rows while we run.
 */
import type { NodeRecord, TokenserverStore, UserRecord } from '../tokenserver/index.js';
import { isRetiredGeneration } from '../tokenserver/user-rules.js';
import type { NodeInfo, TokenServerAdmin, TokenServerUser } from './token-server-admin.js';

/** The service every node and user of this token server belongs to. */
const SERVICE = 'sync-1.5';

function nodeInfo(node: NodeRecord): NodeInfo {
  return {
    id: node.id,
    service: SERVICE,
    node: node.node,
    capacity: node.capacity,
    available: node.available,
    currentLoad: node.currentLoad,
    downed: node.downed !== 0,
    backoff: node.backoff !== 0,
  };
}

function userInfo(user: UserRecord): TokenServerUser {
  const retired = isRetiredGeneration(user.generation);
  const at = user.email.lastIndexOf('@');
  return {
    uid: user.uid,
    email: user.email,
    fxaUid: at < 0 ? user.email : user.email.slice(0, at),
    node: user.node,
    generation: retired ? null : user.generation,
    retired,
    keysChangedAt: user.keysChangedAt,
    clientState: user.clientState,
    createdAt: user.createdAt,
    replacedAt: user.replacedAt,
  };
}

export function tokenServerAdmin(store: TokenserverStore): TokenServerAdmin {
  const nodeById = async (id: number) => (await store.listNodes()).find((n) => n.id === id);
  return {
    async listNodes() {
      return (await store.listNodes()).map(nodeInfo);
    },
    async updateNode(id, change) {
      const node = await nodeById(id);
      if (!node) return undefined;
      const flag = (value: boolean | undefined) =>
        value === undefined ? undefined : value ? 1 : 0;
      const updated = await store.setNode(node.node, {
        capacity: change.capacity,
        available: change.available,
        downed: flag(change.downed),
        backoff: flag(change.backoff),
      });
      if (!updated) return undefined;
      const after = await store.getNode(node.node);
      return after && nodeInfo(after);
    },
    async retireUser(uid) {
      const user = await store.getUserByUid(uid);
      if (!user) return false;
      return (await store.retireUser(user.email)) > 0;
    },
    async findUsers(search, limit) {
      const users = await store.listUsers({
        limit,
        includeReplaced: true,
        emailPrefix: search.toLowerCase(),
      });
      return users.map(userInfo);
    },
    async getUser(uid) {
      const user = await store.getUserByUid(uid);
      return user && userInfo(user);
    },
    async getUsers(uids) {
      return (await store.getUsersByUid(uids)).map(userInfo);
    },
  };
}
