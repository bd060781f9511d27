/**
 * Every latency of one request kind, kept exactly (a two-minute run holds a
 * few hundred thousand numbers), so percentiles are exact rather than
 * bucketed. Nearest-rank percentiles.
 */
export class LatencySamples {
  private values = new Float64Array(1024);
  private size = 0;
  private sorted = true;

  get count(): number {
    return this.size;
  }

  add(ms: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = ms;
    this.sorted = false;
  }

  /** The `p`-th percentile (0 < p ≤ 100) in ms; 0 when empty. */
  percentile(p: number): number {
    if (this.size === 0) return 0;
    if (!this.sorted) {
      this.values.subarray(0, this.size).sort();
      this.sorted = true;
    }
    const rank = Math.max(1, Math.ceil((p / 100) * this.size));
    return this.values[Math.min(rank, this.size) - 1] as number;
  }

  mean(): number {
    let total = 0;
    for (let i = 0; i < this.size; i++) total += this.values[i] as number;
    return this.size === 0 ? 0 : total / this.size;
  }

  /** The samples (a view; do not keep it across `add`). */
  all(): Float64Array {
    return this.values.subarray(0, this.size);
  }

  max(): number {
    return this.percentile(100);
  }
}
