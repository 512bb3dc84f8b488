// Starts a kvs node (gRPC + HTTP on 127.0.0.1 ephemeral ports) over a given or fresh FakeStore.
import { silentLogger, createLogger } from '../../node/src/common/logger.js';
import type { KvStore } from '../../node/src/kv/api.js';
import { ServerMetrics } from '../../node/src/server/metrics.js';
import { startKvsNode, type KvsNode } from '../../node/src/server/node-server.js';
import type { Limits } from '../../node/src/server/validate.js';
import type { ReadinessCondition } from '../../node/src/server/http.js';
import type { ServerSecurity } from '../../node/src/server/authz.js';
import { FakeStore } from './fake-store.js';

export interface TestNode<S extends KvStore = KvStore> {
  node: KvsNode;
  store: S;
  endpoint: string;
  httpUrl: string;
  metrics: ServerMetrics;
  stop(): Promise<void>;
}

export async function startTestNode<S extends KvStore = FakeStore>(
  opts: { store?: S; makeStore?: (metrics: ServerMetrics) => Promise<S> | S; limits?: Partial<Limits>; listen?: string; ownsStore?: boolean; readiness?: ReadinessCondition[]; security?: ServerSecurity } = {},
): Promise<TestNode<S>> {
  const metrics = new ServerMetrics({ defaultMetrics: true });
  const store = opts.store ?? (opts.makeStore ? await opts.makeStore(metrics) : (new FakeStore(metrics.storeObserver()) as unknown as S));
  const logger = process.env.KVS_TEST_LOG ? createLogger({ level: process.env.KVS_TEST_LOG }) : silentLogger();
  let node: KvsNode;
  try {
    node = await startKvsNode({
    store,
    listen: opts.listen ?? '127.0.0.1:0',
    http: '127.0.0.1:0',
    nodeId: 'test-node',
    logger,
    metrics,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ownsStore: opts.ownsStore ?? true,
    ...(opts.readiness ? { readiness: opts.readiness } : {}),
    ...(opts.security ? { security: opts.security } : {}),
    });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return {
    node,
    store,
    endpoint: node.grpcAddress,
    httpUrl: `http://${node.httpAddress}`,
    metrics,
    stop: () => node.shutdown(2000),
  };
}
