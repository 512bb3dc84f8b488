// kvs through raw gRPC stubs (grpc-js), one channel, like the etcd3 client. Transactions: Begin, Get×n,
// Put×n, Commit inside the transaction, retried on TXN_CONFLICT (ABORTED).
import { status } from '@grpc/grpc-js';
import { rawKv, type RawKv } from '../../test/helpers/process-grpc.js';
import { forEachLimit, type BenchDriver, type RmwResult } from '../lib/driver.js';

const MAX_TXN_ATTEMPTS = 50;

export class KvsDriver implements BenchDriver {
  readonly name: string;
  private readonly kv: RawKv;

  constructor(address: string, name = 'kvs×1') {
    this.name = name;
    this.kv = rawKv(address);
  }

  async load(keys: string[], value: (i: number) => Buffer, concurrency: number): Promise<void> {
    // Batches of 100 puts: loading is not what we measure.
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
    await forEachLimit(chunks, Math.max(1, Math.min(concurrency, 8)), async (chunk, ci) => {
      await this.kv.batch({ mutations: chunk.map((k, j) => ({ op: 'PUT', key: Buffer.from(k), value: value(ci * 100 + j) })) }, { timeoutMs: 60_000 });
    });
  }

  async read(key: string): Promise<void> {
    await this.kv.get({ key: Buffer.from(key) });
  }

  async update(key: string, value: Buffer): Promise<void> {
    await this.kv.put({ key: Buffer.from(key), value });
  }

  async rmw(keys: string[], next: (old: Buffer | undefined, i: number) => Buffer): Promise<RmwResult> {
    for (let attempt = 0; attempt < MAX_TXN_ATTEMPTS; attempt++) {
      const { txnId } = await this.kv.begin({});
      try {
        const olds = await Promise.all(keys.map((k) => this.kv.get({ key: Buffer.from(k), txnId })));
        await Promise.all(keys.map((k, i) => this.kv.put({ key: Buffer.from(k), value: next(olds[i]!.found ? olds[i]!.value : undefined, i), txnId })));
        await this.kv.commit({ txnId });
        return { retries: attempt };
      } catch (e) {
        if ((e as { code?: number }).code !== status.ABORTED) {
          await this.kv.rollback({ txnId }).catch(() => undefined);
          throw e;
        }
      }
    }
    throw new Error(`transaction still conflicting after ${MAX_TXN_ATTEMPTS} attempts`);
  }

  async close(): Promise<void> {
    this.kv.close();
  }
}
