/**
 * A bounded string → string memo for the hot path (store keys and
 * generation-counter keys are sha-256 digests: ~1.5 µs each, more than the
 * rest of a cached read's CPU). When full it is emptied, which keeps the
 * bookkeeping at one Map operation per call.
 */
export class BoundedMemo {
  private readonly map = new Map<string, string>();

  constructor(private readonly limit = 10_000) {}

  get(input: string, compute: (input: string) => string): string {
    let output = this.map.get(input);
    if (output === undefined) {
      if (this.map.size >= this.limit) this.map.clear();
      output = compute(input);
      this.map.set(input, output);
    }
    return output;
  }
}
