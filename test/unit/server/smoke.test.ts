import assert from 'node:assert/strict';
import { KvClient } from '../../../node/src/client/index.js';
import { startTestNode, type TestNode } from '../../helpers/test-node.js';

describe('smoke', () => {
  let t: TestNode;
  let c: KvClient;
  before(async () => {
    t = await startTestNode();
    c = new KvClient({ endpoints: t.endpoint });
  });
  after(async () => {
    c.close();
    await t.stop();
  });
  it('put/get', async () => {
    const p = await c.put('a', '1');
    assert.ok(p.version > 0);
    const g = await c.get('a');
    assert.equal(g.value?.toString(), '1');
  });
});
