// The contract between the load generator and a store. A driver owns its client stack; the load
// generator only calls these methods and measures them. Errors thrown are counted, not measured.

export interface RmwResult {
  /** Attempts beyond the first (conflict retries). */
  retries: number;
}

export interface BenchDriver {
  readonly name: string;
  /** Inserts the initial records (not measured). */
  load(keys: string[], value: (i: number) => Buffer, concurrency: number): Promise<void>;
  /** A linearizable single-key read. */
  read(key: string): Promise<void>;
  /** A single-key write (the update of YCSB). */
  update(key: string, value: Buffer): Promise<void>;
  /**
   * A read-modify-write transaction: reads every key, writes every key a new value derived by
   * `next` from the old one, commits atomically (serializable); retries conflicts itself.
   */
  rmw(keys: string[], next: (old: Buffer | undefined, i: number) => Buffer): Promise<RmwResult>;
  close(): Promise<void>;
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function forEachLimit<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}
