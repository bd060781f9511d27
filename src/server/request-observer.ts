/**
 * Told about every answered request (the admin listener's metrics pass one
 * in; `buildApp` works without). The route is Fastify's pattern, never the
 * raw URL, so uids and item ids do not become label values.
 */
export interface FinishedRequest {
  method: string;
  /** `/1.5/:uid/storage/:collection`, or `unknown` when no route matched. */
  route: string;
  status: number;
  seconds: number;
}

export interface RequestObserver {
  requestFinished(request: FinishedRequest): void;
}
