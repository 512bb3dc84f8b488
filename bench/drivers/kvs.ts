// kvs through our client library (KvClient: grpc-js, one channel per endpoint, exactly-once sessions on
// writes, retries with backoff). Transactions use the client's txn helper: Begin, Get×n, Put×n, Commit,
// retried on TXN_CONFLICT.
import { KvClient } from '../../node/src/client/index.js';
import { forEachLimit, type BenchDriver, type RmwResult } from '../lib/driver.js';

export class KvsDriver implements BenchDriver {
  readonly name: string;
  private readonly client: KvClient;

  constructor(endpoints: string[], name = `kvs×${endpoints.length}`) {
    this.name = name;
    this.client = new KvClient({ endpoints, timeoutMs: 30_000 });
  }

  async load(keys: string[], value: (i: number) => Buffer, concurrency: number): Promise<void> {
    // Batches of 100 puts: loading is not what we measure.
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
    await forEachLimit(chunks, Math.max(1, Math.min(concurrency, 8)), async (chunk, ci) => {
      await this.client.batch(chunk.map((k, j) => ({ op: 'put' as const, key: k, value: value(ci * 100 + j) })));
    });
  }

  async read(key: string): Promise<void> {
    await this.client.get(key);
  }

  async update(key: string, value: Buffer): Promise<void> {
    await this.client.put(key, value);
  }

  async rmw(keys: string[], next: (old: Buffer | undefined, i: number) => Buffer): Promise<RmwResult> {
    const out = await this.client.txnDetailed(
      async (tx) => {
        const olds = await Promise.all(keys.map((k) => tx.get(k)));
        keys.forEach((k, i) => void tx.put(k, next(olds[i]!.value, i)));
      },
      { maxAttempts: 50 },
    );
    return { retries: out.attempts - 1 };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
