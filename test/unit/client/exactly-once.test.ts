import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../node/src/common/logger.js';
import { openLocalStore } from '../../../node/src/kv/local-store.js';
import { FakeStore } from '../../helpers/fake-store.js';
import { exactlyOnceSuite } from './exactly-once-suite.js';

exactlyOnceSuite('the fake store', (m) => new FakeStore(m.storeObserver()), (t) => {
  const s = t.store as FakeStore;
  assert.ok(s.dedupHits > 0, 'the server answered retries from the session table');
});

exactlyOnceSuite('openLocalStore (memory engine)', (m) => openLocalStore({ nodeId: 'test-node', logger: silentLogger(), observer: m.storeObserver() }));

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
exactlyOnceSuite('openLocalStore (classic-level in a temp dir)', (m) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-eo-'));
  dirs.push(dir);
  return openLocalStore({ dir, nodeId: 'test-node', logger: silentLogger(), observer: m.storeObserver() });
});
