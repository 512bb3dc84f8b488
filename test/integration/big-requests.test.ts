// Bounded resources for big requests on a real 3-node cluster (issue 10 item 4): a Batch or a transaction
// write set larger than one Raft entry can carry to followers (--max-message-bytes minus the framing
// reserve, common/raft-limits.ts) is refused up front with INVALID_ARGUMENT naming the field, the size and
// the limit — and the group keeps serving; just below the limit both commit and replicate. A DeleteRange
// over thousands of keys runs in chunks through the log and stays exactly-once when its reply is lost.
import assert from 'node:assert/strict';
import { KvClient, KvInvalidArgumentError, LostReplyInjector } from '../../node/src/client/index.js';
import { encodedMutationBytes } from '../../node/src/kv/commands.js';
import type { Mutation } from '../../node/src/kv/api.js';
import { RAFT_FRAME_RESERVE_BYTES } from '../../node/src/common/raft-limits.js';
import { raftIdOf, peersOf, ProcessCluster, collectLogsOnFailure } from '../helpers/cluster-process.js';

const MAX_MESSAGE = 2 * 1024 * 1024;
const LIMIT = MAX_MESSAGE - RAFT_FRAME_RESERVE_BYTES;
const MIB = 1024 * 1024;

/** Two puts (1 MiB + the rest) whose encoded size in a command is exactly `bytes`. */
function twoPuts(prefix: string, bytes: number): Array<{ key: string; value: Buffer }> {
  const first: Mutation = { op: 'put', key: Buffer.from(`${prefix}/1`), value: Buffer.alloc(MIB, 1) };
  const key2 = Buffer.from(`${prefix}/2`);
  let len = bytes - encodedMutationBytes(first) - encodedMutationBytes({ op: 'put', key: key2, value: Buffer.alloc(0) });
  while (encodedMutationBytes(first) + encodedMutationBytes({ op: 'put', key: key2, value: Buffer.alloc(len) }) > bytes) len--;
  return [
    { key: first.key.toString(), value: first.value },
    { key: key2.toString(), value: Buffer.alloc(len, 2) },
  ];
}

describe('big requests: batch and transaction size limits on a 3-node cluster', function () {
  this.timeout(120_000);
  let cluster: ProcessCluster;
  const clients: KvClient[] = [];
  const kv = (endpoints: string | string[]) => {
    const c = new KvClient({ endpoints, timeoutMs: 15_000 });
    clients.push(c);
    return c;
  };

  before(async () => {
    cluster = await ProcessCluster.start({
      size: 3,
      extraArgs: (self, all) => ['--raft-id', String(raftIdOf(self, all)), '--peers', peersOf(all), '--max-message-bytes', String(MAX_MESSAGE)],
    });
  });
  afterEach(function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
  });
  after(async () => {
    for (const c of clients) c.close();
    await cluster?.cleanup();
  });

  /** Every node serves a fresh write and reads it back (the group is not stalled). */
  async function groupServes(tag: string): Promise<void> {
    await kv(cluster.addresses).put(`alive/${tag}`, tag);
    for (const n of cluster.nodes) assert.equal((await kv(n.address).get(`alive/${tag}`)).value?.toString(), tag, `read on ${n.nodeId}`);
  }

  it('a batch just above the limit is refused (INVALID_ARGUMENT on mutations, size and limit named); the group keeps serving', async () => {
    const c = kv(cluster.addresses);
    const err = await c.batch(twoPuts('b-above', LIMIT + 1024).map((m) => ({ op: 'put' as const, ...m }))).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof KvInvalidArgumentError, `expected INVALID_ARGUMENT, got ${String(err)}`);
    assert.equal(err.field, 'mutations');
    assert.match(err.message, new RegExp(`batch of 2 mutations of \\d+ bytes exceeds the limit of ${LIMIT} bytes one Raft entry can carry`));
    assert.equal((await c.get('b-above/1')).found, false);
    await groupServes('after-batch');
  });

  it('a transaction whose write set grows just above the limit is refused at that write; the group keeps serving', async () => {
    const c = kv(cluster.addresses);
    const [m1, m2] = twoPuts('t-above', LIMIT + 1024);
    const { txnId } = await c.begin();
    await c.put(m1!.key, m1!.value, { txnId });
    const err = await c.put(m2!.key, m2!.value, { txnId }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof KvInvalidArgumentError, `expected INVALID_ARGUMENT, got ${String(err)}`);
    assert.equal(err.field, 'writes');
    assert.match(err.message, new RegExp(`transaction write set \\(2 writes\\) of ${LIMIT + 1024} bytes exceeds the limit of ${LIMIT} bytes`));
    await c.rollback(txnId);
    await groupServes('after-txn');
  });

  it('a batch and a transaction just below the limit commit and replicate to every node', async () => {
    const c = kv(cluster.addresses);
    const below = twoPuts('b-below', LIMIT - 1024);
    await c.batch(below.map((m) => ({ op: 'put' as const, ...m })));
    const [m1, m2] = twoPuts('t-below', LIMIT - 1024);
    const { txnId } = await c.begin();
    await c.put(m1!.key, m1!.value, { txnId });
    await c.put(m2!.key, m2!.value, { txnId });
    await c.commit(txnId);
    for (const n of cluster.nodes) {
      const r = kv(n.address);
      for (const m of [...below, m1!, m2!]) assert.equal((await r.get(m.key)).value?.length, m.value.length, `${m.key} on ${n.nodeId}`);
    }
    await groupServes('after-below');
  });
  it('a DeleteRange over 5000 keys (5 chunks) whose reply is lost: the retry gets the one result, every node agrees', async () => {
    const c = kv(cluster.addresses);
    for (let i = 0; i < 5000; i += 1000) {
      await c.batch(Array.from({ length: 1000 }, (_, j) => ({ op: 'put' as const, key: `dr/${String(i + j).padStart(5, '0')}`, value: 'v' })));
    }
    await c.put('dr0', 'neighbour');
    await c.put('dq/z', 'neighbour');
    const inj = new LostReplyInjector({ methods: ['DeleteRange'] });
    const lossy = new KvClient({ endpoints: cluster.addresses, timeoutMs: 30_000, lostReplies: inj });
    clients.push(lossy);
    inj.dropNext(1, ['DeleteRange']);
    const r = await lossy.deleteRange({ prefix: 'dr/' });
    assert.equal(inj.totalDropped, 1, 'the first reply was dropped; the result came from the retry');
    assert.equal(r.deleted, 5000);
    for (const n of cluster.nodes) {
      const onNode = kv(n.address);
      assert.deepEqual((await onNode.scan({ prefix: 'dr/', limit: 10 })).kvs, [], `range empty on ${n.nodeId}`);
      assert.equal((await onNode.get('dr0')).value?.toString(), 'neighbour');
      assert.equal((await onNode.get('dq/z')).value?.toString(), 'neighbour');
    }
    await groupServes('after-delete-range');
  });
});
