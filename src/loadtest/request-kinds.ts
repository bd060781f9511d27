/**
 * The kinds of request a simulated Firefox client sends; latencies and
 * errors are reported per kind.
 */
export const REQUEST_KINDS = [
  'GET token',
  'info/configuration',
  'info/collections',
  'GET meta/global',
  'PUT meta/global',
  'GET clients',
  'POST clients',
  'GET collection',
  'POST collection',
  'POST batch=true',
  'POST batch append',
  'POST batch commit',
  'DELETE collection',
  'DELETE storage',
  'GET tabs',
  'POST tabs',
] as const;

export type RequestKind = (typeof REQUEST_KINDS)[number];
