/**
 * How many runs each property gets: bounded in the normal suite (a few
 * seconds per file), more with FUZZ_RUNS=… for a long session.
 */
export function fuzzRuns(normal: number): number {
  const fromEnv = Number(process.env.FUZZ_RUNS);
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : normal;
}
