// Mocha fixture: one kvs-node process per `describe`, started in before(), killed and removed in after();
// node logs copied to test/out/ when a test fails.
import { KvClient, type KvClientOptions } from '../../../node/src/client/index.js';
import { NodeProcess, collectLogsOnFailure, type NodeProcessOptions } from '../../helpers/cluster-process.js';

export interface NodeFixture {
  readonly node: NodeProcess;
  /** A client of this node; closed in after(). */
  client(opts?: Partial<KvClientOptions>): KvClient;
}

export function useNode(opts: NodeProcessOptions = {}): NodeFixture {
  let node: NodeProcess | undefined;
  const clients: KvClient[] = [];
  before(async function () {
    this.timeout(60_000);
    node = new NodeProcess({ env: { KVS_LOG_LEVEL: 'info' }, ...opts });
    await node.start();
  });
  afterEach(function () {
    collectLogsOnFailure(this, [node]);
  });
  after(async function () {
    this.timeout(30_000);
    for (const c of clients) c.close();
    await node?.cleanup();
  });
  return {
    get node() {
      if (!node) throw new Error('node not started');
      return node;
    },
    client(o = {}) {
      if (!node) throw new Error('node not started');
      const c = new KvClient({ endpoints: [node.address], timeoutMs: 10_000, ...o });
      clients.push(c);
      return c;
    },
  };
}

/** mulberry32: seeded PRNG for reproducible test schedules (seed printed by the tests). */
export { mulberry32 as prng } from '../../../node/src/common/prng.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Seed from KVS_TEST_SEED or the clock; logged so a failure can be replayed. */
export function testSeed(name: string): number {
  const seed = process.env.KVS_TEST_SEED ? Number(process.env.KVS_TEST_SEED) : Date.now() % 1_000_000;
  console.log(`      [${name}] seed=${seed} (KVS_TEST_SEED=${seed} to replay)`);
  return seed;
}
