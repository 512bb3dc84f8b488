import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../node/src/common/logger.js';
import { openLocalStore } from '../../../node/src/kv/local-store.js';
import { rpcSuite } from './rpc-suite.js';

rpcSuite('openLocalStore (memory engine)', (metrics) => openLocalStore({ nodeId: 'test-node', logger: silentLogger(), observer: metrics.storeObserver() }));

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
rpcSuite('openLocalStore (classic-level in a temp dir)', (metrics) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-rpc-'));
  dirs.push(dir);
  return openLocalStore({ dir, nodeId: 'test-node', logger: silentLogger(), observer: metrics.storeObserver() });
});
