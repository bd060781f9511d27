/**
 * Node assignment as Mozilla's token server does it (syncstorage-rs
 * `get_best_node`, `add_user_to_node`), inside the caller's write
 * transaction:
 *
 * - candidates: `available > 0`, `capacity > current_load`, not `downed`,
 *   no `backoff`;
 * - the least loaded first by `ln(current_load) / ln(capacity)` (an empty
 *   node first), ties to the node with more `available`;
 * - none: release capacity on every node that is not full and not downed
 *   (`available = min(capacity × rate, capacity − current_load)`) and try
 *   again, at most 5 times, then give up (503);
 * - the chosen node gains one `current_load` and loses one `available`.
 *
 * The ordering is computed here rather than in SQL: `LN` is not in every
 * SQLite build, and the candidate list is one row per node.
 */
import type { SqlExecutor } from '../sql/sql-types.js';
import { tokenserverErrors } from './tokenserver-errors.js';

/** syncstorage-rs's default `node_capacity_release_rate`. */
export const DEFAULT_CAPACITY_RELEASE_RATE = 0.1;
const MAX_RELEASE_ROUNDS = 5;

export interface NodeLoad {
  id: number;
  node: string;
  available: number;
  currentLoad: number;
  capacity: number;
}

function loadRatio(node: NodeLoad): number {
  return node.currentLoad === 0 ? -1 : Math.log(node.currentLoad) / Math.log(node.capacity);
}

/** The best of the candidate nodes, or undefined when there are none. */
export function chooseNode(candidates: readonly NodeLoad[]): NodeLoad | undefined {
  let best: NodeLoad | undefined;
  for (const node of candidates) {
    if (!best) {
      best = node;
      continue;
    }
    const a = loadRatio(node);
    const b = loadRatio(best);
    if (a < b || (a === b && node.available > best.available)) best = node;
  }
  return best;
}

/**
 * How many slots a release opens on a node: the rate's share of its
 * capacity, rounded, at least one (a small self-hosted node with capacity
 * under 1/rate would otherwise never open a slot), at most what is left.
 */
export function releasedSlots(capacity: number, currentLoad: number, rate: number): number {
  return Math.min(Math.max(1, Math.round(capacity * rate)), capacity - currentLoad);
}

const CANDIDATES = `SELECT id, node, available, current_load, capacity FROM nodes
  WHERE service = ? AND available > 0 AND capacity > current_load AND downed = 0 AND backoff = 0`;
const RELEASABLE = `SELECT id, capacity, current_load FROM nodes
  WHERE service = ? AND available <= 0 AND capacity > current_load AND downed = 0`;

async function candidates(executor: SqlExecutor, serviceId: number): Promise<NodeLoad[]> {
  const rows = await executor.rows(CANDIDATES, [serviceId]);
  return rows.map(([id, node, available, currentLoad, capacity]) => ({
    id: Number(id),
    node: String(node),
    available: Number(available),
    currentLoad: Number(currentLoad),
    capacity: Number(capacity),
  }));
}

/** Pick a node and count the new user on it. Throws the 503 `noNode` error. */
export async function assignNode(
  executor: SqlExecutor,
  serviceId: number,
  releaseRate: number,
): Promise<NodeLoad> {
  for (let round = 0; ; round++) {
    const best = chooseNode(await candidates(executor, serviceId));
    if (best) {
      await executor.run(
        `UPDATE nodes SET current_load = current_load + 1,
           available = CASE WHEN available > 1 THEN available - 1 ELSE 0 END
         WHERE id = ?`,
        [best.id],
      );
      return best;
    }
    if (round >= MAX_RELEASE_ROUNDS) break;
    const full = await executor.rows(RELEASABLE, [serviceId]);
    if (full.length === 0) break;
    for (const [id, capacity, currentLoad] of full) {
      await executor.run('UPDATE nodes SET available = ? WHERE id = ?', [
        releasedSlots(Number(capacity), Number(currentLoad), releaseRate),
        Number(id),
      ]);
    }
  }
  throw tokenserverErrors.noNode();
}
