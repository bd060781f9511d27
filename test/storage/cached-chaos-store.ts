/**
 * A chaos wrapper at the CacheStore seam (as bentocache's chaos cache): it
 * passes every call to the inner store unless a rule says to fail it with
 * an error, or to answer "no" (false / miss) as a lost race would.
 */
import type {
  CacheKey,
  CacheStore,
  CasToken,
  CounterOptions,
  DeleteOptions,
  LeaseOptions,
  LeaseResult,
  SetOptions,
  ValueWithCas,
} from '@syncstorage-ts/memcache';
import { CacheUnavailableError } from '@syncstorage-ts/memcache';

export type ChaosOp = Exclude<keyof CacheStore, 'close'>;
/** Return an Error to throw it, 'no' to answer false / a miss, undefined to pass. */
export type ChaosRule = (op: ChaosOp, key: string | undefined) => Error | 'no' | undefined;

export class ChaosStore implements CacheStore {
  readonly rules: ChaosRule[] = [];
  /** Every call fails as if memcached were unreachable (contents kept, as after a network cut). */
  down = false;
  readonly log: Array<{ op: ChaosOp; key: string | undefined }> = [];

  constructor(readonly inner: CacheStore) {}

  /** Add a rule; returns a function that removes it. */
  rule(rule: ChaosRule): () => void {
    this.rules.push(rule);
    return () => {
      const i = this.rules.indexOf(rule);
      if (i >= 0) this.rules.splice(i, 1);
    };
  }

  private async run<T>(
    op: ChaosOp,
    key: CacheKey | undefined,
    no: T,
    call: () => Promise<T>,
  ): Promise<T> {
    const name = key === undefined ? undefined : key.toString();
    this.log.push({ op, key: name });
    if (this.down) throw new CacheUnavailableError('chaos: cache down', 'chaos');
    for (const rule of this.rules) {
      const verdict = rule(op, name);
      if (verdict instanceof Error) throw verdict;
      if (verdict === 'no') return no;
    }
    return call();
  }

  get<T = unknown>(key: CacheKey): Promise<T | undefined> {
    return this.run('get', key, undefined, () => this.inner.get<T>(key));
  }
  gets<T = unknown>(key: CacheKey): Promise<ValueWithCas<T> | undefined> {
    return this.run('gets', key, undefined, () => this.inner.gets<T>(key));
  }
  getMulti<T = unknown>(keys: readonly CacheKey[]): Promise<Array<T | undefined>> {
    return this.run(
      'getMulti',
      keys.join(' '),
      keys.map(() => undefined),
      () => this.inner.getMulti<T>(keys),
    );
  }
  set(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.run('set', key, false, () => this.inner.set(key, value, options));
  }
  add(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.run('add', key, false, () => this.inner.add(key, value, options));
  }
  replace(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.run('replace', key, false, () => this.inner.replace(key, value, options));
  }
  append(key: CacheKey, data: string | Buffer): Promise<boolean> {
    return this.run('append', key, false, () => this.inner.append(key, data));
  }
  prepend(key: CacheKey, data: string | Buffer): Promise<boolean> {
    return this.run('prepend', key, false, () => this.inner.prepend(key, data));
  }
  cas(key: CacheKey, value: unknown, cas: CasToken, options?: SetOptions): Promise<boolean> {
    return this.run('cas', key, false, () => this.inner.cas(key, value, cas, options));
  }
  delete(key: CacheKey, options?: DeleteOptions): Promise<boolean> {
    return this.run('delete', key, false, () => this.inner.delete(key, options));
  }
  incr(key: CacheKey, delta?: number, options?: CounterOptions): Promise<number | undefined> {
    return this.run('incr', key, undefined, () => this.inner.incr(key, delta, options));
  }
  decr(key: CacheKey, delta?: number, options?: CounterOptions): Promise<number | undefined> {
    return this.run('decr', key, undefined, () => this.inner.decr(key, delta, options));
  }
  touch(key: CacheKey, ttl: number): Promise<boolean> {
    return this.run('touch', key, false, () => this.inner.touch(key, ttl));
  }
  getAndTouch<T = unknown>(key: CacheKey, ttl: number): Promise<T | undefined> {
    return this.run('getAndTouch', key, undefined, () => this.inner.getAndTouch<T>(key, ttl));
  }
  lease<T = unknown>(key: CacheKey, options: LeaseOptions): Promise<LeaseResult<T>> {
    return this.run(
      'lease',
      key,
      {
        value: undefined,
        cas: undefined,
        win: false,
        stale: false,
        winnerPending: false,
        ttlRemaining: undefined,
      },
      () => this.inner.lease<T>(key, options),
    );
  }
  invalidate(key: CacheKey, ttl: number): Promise<boolean> {
    return this.run('invalidate', key, false, () => this.inner.invalidate(key, ttl));
  }
  flush(delay?: number): Promise<void> {
    return this.run('flush', undefined, undefined, () => this.inner.flush(delay));
  }
  stats(): Promise<Record<string, Record<string, string>>> {
    return this.run('stats', undefined, {}, () => this.inner.stats());
  }
  version(): Promise<Record<string, string>> {
    return this.run('version', undefined, {}, () => this.inner.version());
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
