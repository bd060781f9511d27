/**
 * What the admin listener needs from the token server, when one runs in
 * this process (issue 12's repository of users and nodes plugs in here):
 * nodes to show and edit, and users to retire. Absent, the nodes endpoints
 * answer 404 and the page hides them.
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

export interface TokenServerAdmin {
  listNodes(): Promise<NodeInfo[]>;
  /** Throws when there is no such node. */
  updateNode(id: number, change: NodeChange): Promise<NodeInfo>;
  /** Retire the token-server user(s) mapped to this storage uid; false when none. */
  retireUser(uid: number): Promise<boolean>;
}
