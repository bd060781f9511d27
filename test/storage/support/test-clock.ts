/**
 * A clock for storage tests: real time plus an offset that tests move
 * forward (ttl expiry, batch lifetime) or freeze (many writes in one 10 ms).
 */
export class TestClock {
  #offset = 0;
  #frozenAt: number | undefined;

  now(): number {
    return this.#frozenAt ?? Date.now() + this.#offset;
  }

  advance(ms: number): void {
    if (this.#frozenAt !== undefined) this.#frozenAt += ms;
    else this.#offset += ms;
  }

  /** Stop time at its current value (advance still moves it). */
  freeze(): void {
    this.#frozenAt = this.now();
  }
}
