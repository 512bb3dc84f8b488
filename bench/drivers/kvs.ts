// kvs through our client library (KvClient: grpc-js, one channel per endpoint, requests multiplexed over
// one BatchStream per endpoint unless --kvs-transport unary, exactly-once sessions on writes, retries
// with backoff). Transactions use the client's txn helper: Begin, Get×n, Put×n, Commit,
// retried on TXN_CONFLICT.
// Replicated mode (a Raft group over several nodes): one client per node; writes and transactions go to
// the leader's client (found through Admin Status, like a leader-aware router), reads round-robin over
// every replica (each serves linearizable reads through ReadIndex).
import { AdminClient, KvClient, type ClientTlsOptions } from '../../node/src/client/index.js';
import { forEachLimit, type BenchDriver, type RmwResult } from '../lib/driver.js';

export class KvsDriver implements BenchDriver {
  readonly name: string;
  private client: KvClient;

  private readers: KvClient[] = [];
  private next = 0;
  private leaderReady: Promise<void> | undefined;

  private readonly afterLoad: (() => Promise<void>) | undefined;

  constructor(private readonly endpoints: string[], name = `kvs×${endpoints.length}`, private readonly opts: { replicated?: boolean; transport?: 'stream' | 'unary'; tls?: ClientTlsOptions; readLeaderSlack?: number; afterLoad?: () => Promise<void> } = {}) {
    this.name = name;
    this.afterLoad = opts.afterLoad;
    const tls = opts.tls ? { tls: opts.tls } : {};
    // transport: by default KvClient multiplexes every request over one BatchStream per endpoint.
    const transport = opts.transport ?? 'stream';
    // KVS_BENCH_TXN_READS=node: the txn helper reads through the transaction's node (an A/B of the
    // client's default direct reads, KvClientOptions.directTxnReads).
    const directTxnReads = process.env.KVS_BENCH_TXN_READS === 'node' ? { directTxnReads: false } : {};
    if (opts.replicated && endpoints.length > 1) {
      // Failover still works: every client lists all endpoints, the preferred one first.
      const readLeaderSlack = opts.readLeaderSlack !== undefined ? { readLeaderSlack: opts.readLeaderSlack } : {};
      this.readers = endpoints.map((e) => new KvClient({ endpoints: [e, ...endpoints.filter((x) => x !== e)], start: 'first', timeoutMs: 30_000, transport, ...readLeaderSlack, ...directTxnReads, ...tls }));
      this.client = this.readers[0]!;
      this.leaderReady = this.findLeader();
    } else this.client = new KvClient({ endpoints, timeoutMs: 30_000, transport, ...directTxnReads, ...tls });
  }

  private async findLeader(): Promise<void> {
    const admin = new AdminClient(this.endpoints, this.opts.tls ? { tls: this.opts.tls } : {});
    try {
      for (let i = 0; i < 100; i++) {
        const st = await admin.status().catch(() => undefined);
        const idx = st?.leaderAddress ? this.endpoints.indexOf(st.leaderAddress) : -1;
        if (idx >= 0) {
          this.client = this.readers[idx]!;
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      admin.close();
    }
  }

  private reader(): KvClient {
    if (this.readers.length === 0) return this.client;
    this.next = (this.next + 1) % this.readers.length;
    return this.readers[this.next]!;
  }

  async load(keys: string[], value: (i: number) => Buffer, concurrency: number): Promise<void> {
    await this.leaderReady;
    // Batches of 100 puts: loading is not what we measure.
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
    await forEachLimit(chunks, Math.max(1, Math.min(concurrency, 8)), async (chunk, ci) => {
      await this.client.batch(chunk.map((k, j) => ({ op: 'put' as const, key: k, value: value(ci * 100 + j) })));
    });
    // E.g. split the loaded key space into ranges (a Batch must stay inside one range, so after loading).
    await this.afterLoad?.();
  }

  async read(key: string): Promise<void> {
    await this.reader().get(key);
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
    for (const r of this.readers) r.close();
  }
}
