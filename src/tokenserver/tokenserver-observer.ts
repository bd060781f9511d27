/**
 * Told what the token server does, for the operator's metrics (the admin
 * listener's `ServerMetrics` passes one in; the token server works without):
 * tokens issued and refused, node assignments, and how each FxA access
 * token was verified. Labels are small fixed sets, never an FxA uid.
 */

/**
 * `new_user`: a first record for an account; `reassignment`: a replaced
 * record or one whose node row is gone, moved to a node as a new uid;
 * `new_client_state`: a new uid on the same node for a new client_state.
 */
export type AssignmentKind = 'new_user' | 'reassignment' | 'new_client_state';

/** `cache`: a JWT verified before and not yet expired; `local_jwk`: a configured or fetched JWK; `remote_verify`: FxA's `/v1/verify`. */
export type VerificationMethod = 'cache' | 'local_jwk' | 'remote_verify';

/** `invalid`: the token is refused (401); `unavailable`: FxA could not be asked (503). */
export type VerificationOutcome = 'ok' | 'invalid' | 'unavailable';

export interface TokenserverObserver {
  tokenIssued(): void;
  /** An error answer: Mozilla's `status` (invalid-generation, …) and the HTTP status. */
  tokenRefused(status: string, httpStatus: number): void;
  /** Called once the assignment is committed. */
  userAssigned(kind: AssignmentKind): void;
  fxaVerified(method: VerificationMethod, outcome: VerificationOutcome): void;
}
