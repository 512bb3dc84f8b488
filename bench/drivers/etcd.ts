// etcd through the `etcd3` npm client (grpc-js underneath, like our client): linearizable gets,
// puts, and read-modify-write transactions as STM, retried on conflict. Isolation `Serializable`: all
// reads at the revision of the first read, commit guarded by "every read key's mod_revision unchanged";
// the written keys are the read keys, so this is a serializable read-modify-write. (etcd3 1.1.2's
// `SerializableSnapshot` compares written keys against the *earliest mod_revision of the read keys*
// instead of the read revision and reports a conflict on almost every multi-key transaction.)
import { Etcd3 } from 'etcd3';
import { forEachLimit, type BenchDriver, type RmwResult } from '../lib/driver.js';

/** etcd3's `Isolation.Serializable` (a const enum in its typings). */
const SERIALIZABLE = 1;

export class EtcdDriver implements BenchDriver {
  readonly name: string;
  private readonly client: Etcd3;

  /** `tls`: PEM bytes of the CA and of a client certificate (etcd run with --client-cert-auth). */
  constructor(endpoints: string[], name = `etcd×${endpoints.length}`, tls?: { ca: Buffer; cert: Buffer; key: Buffer }) {
    this.name = name;
    this.client = new Etcd3({
      hosts: endpoints,
      grpcOptions: { 'grpc.max_receive_message_length': 16 * 1024 * 1024 },
      ...(tls ? { credentials: { rootCertificate: tls.ca, certChain: tls.cert, privateKey: tls.key } } : {}),
    });
  }

  async load(keys: string[], value: (i: number) => Buffer, concurrency: number): Promise<void> {
    await forEachLimit(keys, concurrency, async (k, i) => {
      await this.client.put(k).value(value(i));
    });
  }

  async read(key: string): Promise<void> {
    await this.client.get(key).buffer();
  }

  async update(key: string, value: Buffer): Promise<void> {
    await this.client.put(key).value(value);
  }

  async rmw(keys: string[], next: (old: Buffer | undefined, i: number) => Buffer): Promise<RmwResult> {
    let attempts = 0;
    await this.client
      .stm({ retries: 50, prefetch: keys, isolation: SERIALIZABLE as never })
      .transact(async (tx) => {
        attempts++;
        const olds = await Promise.all(keys.map((k) => tx.get(k).buffer()));
        await Promise.all(keys.map((k, i) => tx.put(k).value(next(olds[i] ?? undefined, i))));
      });
    return { retries: Math.max(0, attempts - 1) };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
