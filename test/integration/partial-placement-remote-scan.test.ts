// Scans over ranges the coordinating store does not hold (placement with fewer replicas than stores):
// in a transaction, or at an explicit snapshot, the store reads the pieces it lacks at a store that
// holds them (TxnCall scan at the snapshot, txn-rpc.ts), range by range in key order, forward and
// reverse, limits kept. A remotely scanned span is in that range's part of the read set, so the prepare
// there validates it and takes range locks: a write into it between the scan and the commit fails the
// commit with TXN_CONFLICT — the negative control writes just outside the span (beyond the key the
// limit stopped at) and the commit goes through, so the check is the span, not the range. A remote
// scan meeting the lock of a transaction whose coordinator died after its primary commit rolls it
// forward (checked by hand: with KVS_TEST_UNSAFE_IGNORE_TXN_LOCKS on the stores it reads the old value).
// Second suite: a store with no usable replica of the meta range (it joined and was placed on one range
// only) finds the other ranges by asking its peers (raftstore/range-locate.ts) and runs transactions —
// reads, scans, writes — over them.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient, KvClient, KvConflictError } from '../../node/src/client/index.js';
import { NodeProcess, ProcessCluster, collectLogsOnFailure, peersOf, startRaftCluster, until } from '../helpers/cluster-process.js';
import { dropReplica, splitThree } from '../helpers/partial-placement.js';

const b = (s: string): Buffer => Buffer.from(s);
const keys = ['a', 'h', 'q'].flatMap((p) => Array.from({ length: 10 }, (_, i) => `${p}${i}`));
const names = (r: { kvs: Array<{ key: Buffer }> }): string[] => r.kvs.map((x) => x.key.toString());

/**
 * The causality token: a transaction's snapshot comes from its first range, and another range's clock
 * may be ahead (docs/ARCHITECTURE.md "Causality token"), so a client sees writes it did not make only
 * once it has seen a ts at or above them. The suites note every version their writers got, and hand the
 * highest to a fresh client by a snapshot read at it (the client keeps the highest ts it saw).
 */
class Token {
  ts = 0;
  note<T extends { version: number }>(r: T): T {
    this.ts = Math.max(this.ts, r.version);
    return r;
  }
  async give(c: KvClient): Promise<void> {
    await c.scan({ snapshotTs: this.ts, limit: 1 });
  }
}

/**
 * Waits until the meta directory as each of `endpoints` holds it (Kv.Routes, directory only) has the
 * three ranges ['', g), [g, p), [p, +∞): a split's right half is published by its leader a little later,
 * and until then the directory has a gap there (nobody can locate those keys remotely yet).
 */
async function directoryComplete(endpoints: readonly string[]): Promise<void> {
  const c = new KvClient({ endpoints: [...endpoints], timeoutMs: 10_000 });
  try {
    for (const endpoint of endpoints) {
      await until(
        `the directory at ${endpoint} holds the three ranges`,
        async () => {
          const rs = await c.routes({ endpoint, directoryOnly: true }).catch(() => undefined);
          const spans = rs?.map((r) => `${r.start.toString()}-${r.end.toString()}`).sort();
          return spans?.join(',') === '-g,g-p,p-' ? true : undefined;
        },
        30_000,
        200,
      );
    }
  } finally {
    c.close();
  }
}

describe('scans over ranges the coordinating store does not hold, read remotely (multi-process, 4 stores)', function () {
  this.timeout(180_000);
  let cluster: ProcessCluster;
  let admin: AdminClient;
  const clients: KvClient[] = [];
  const token = new Token();

  before(async function () {
    cluster = await startRaftCluster(186, { size: 4 });
    admin = new AdminClient(cluster.addresses, 10_000);
    const middle = await splitThree(admin);
    const w = new KvClient({ endpoints: cluster.addresses, timeoutMs: 15_000 });
    for (const k of keys) token.note(await w.put(k, `v-${k}`));
    w.close();
    // Store 4 gives up its replica of the middle range [g, p).
    await dropReplica(admin, middle, 4, cluster.addresses[3]!);
    await directoryComplete([cluster.addresses[3]!]);
  });
  afterEach(function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
  });
  after(async function () {
    for (const c of clients) c.close();
    admin?.close();
    await cluster?.cleanup();
  });

  /** A client of store 4 only, without the client-side range-by-range fallback: store 4 serves it all. */
  const via4 = async (o: Partial<ConstructorParameters<typeof KvClient>[0]> = {}): Promise<KvClient> => {
    const c = new KvClient({ endpoints: [cluster.addresses[3]!], timeoutMs: 15_000, maxAttempts: 3, piecewiseScans: false, ...o });
    clients.push(c);
    await token.give(c);
    return c;
  };
  const others = (): KvClient => {
    const c = new KvClient({ endpoints: cluster.addresses.slice(0, 3), timeoutMs: 15_000 });
    clients.push(c);
    return c;
  };

  it('a transaction through store 4 scans across the range it lacks: every key once, in order, forward and reverse, limits kept', async () => {
    const c = await via4();
    const got = await c.txn(
      async (tx) => ({
        all: await tx.scan({ limit: 100 }),
        rev: await tx.scan({ limit: 100, reverse: true }),
        page: await tx.scan({ start: b('a5'), limit: 10 }),
        revPage: await tx.scan({ end: b('q3'), limit: 8, reverse: true }),
        inside: await tx.scan({ start: b('h2'), end: b('h7') }),
        insideRev: await tx.scan({ start: b('h2'), end: b('h7'), limit: 2, reverse: true }),
        upToEdge: await tx.scan({ start: b('h'), limit: 10 }),
        prefix: await tx.scan({ prefix: b('h') }),
        value: await tx.scan({ start: b('h4'), limit: 1 }),
        atMaxLimit: await tx.scan({ start: b('h'), limit: 10_000 }), // the store's maximum; the remote piece (first) asks one more
      }),
      { readOnly: true },
    );
    assert.deepEqual(names(got.all), keys);
    assert.equal(got.all.more, false);
    assert.deepEqual(names(got.rev), [...keys].reverse());
    assert.equal(got.rev.more, false);
    assert.deepEqual(names(got.page), keys.slice(5, 15));
    assert.equal(got.page.more, true);
    assert.deepEqual(names(got.revPage), keys.slice(15, 23).reverse());
    assert.equal(got.revPage.more, true);
    assert.deepEqual(names(got.inside), ['h2', 'h3', 'h4', 'h5', 'h6']);
    assert.equal(got.inside.more, false);
    assert.deepEqual(names(got.insideRev), ['h6', 'h5']);
    assert.equal(got.insideRev.more, true);
    // The limit ends exactly at the end of the remote range: more, since the next range has keys.
    assert.deepEqual(names(got.upToEdge), keys.slice(10, 20));
    assert.equal(got.upToEdge.more, true);
    assert.deepEqual(names(got.prefix), keys.slice(10, 20));
    assert.equal(got.value.kvs[0]?.value.toString(), 'v-h4');
    assert.deepEqual(names(got.atMaxLimit), keys.slice(10));
  });

  it('the transaction sees its own buffered writes in the remote range, and commits them', async () => {
    const c = await via4();
    const { commitTs, result } = await c.txnDetailed(async (tx) => {
      await tx.put('a-own', '1'); // a local range: the commit point
      await tx.put('h-own', '2');
      await tx.delete('h3');
      return { own: names(await tx.scan({ start: b('h-'), end: b('h-z') })), around: names(await tx.scan({ start: b('h2'), end: b('h5') })) };
    });
    assert.deepEqual(result.own, ['h-own']);
    assert.deepEqual(result.around, ['h2', 'h4'], 'its own delete hides h3');
    const r = others();
    assert.equal((await r.get('h-own')).version, commitTs);
    assert.equal((await r.get('a-own')).version, commitTs);
    assert.equal((await r.get('h3')).found, false);
    token.note(await r.batch([{ op: 'delete', key: 'a-own' }, { op: 'delete', key: 'h-own' }, { op: 'put', key: 'h3', value: 'v-h3' }]));
  });

  it('a write into a remotely scanned span before the commit fails it with TXN_CONFLICT (forward and reverse); one beyond the span does not (negative control)', async () => {
    const c = await via4({ maxAttempts: 1 });
    const r = others();
    const attempt = async (scan: { start?: Buffer; end?: Buffer; limit: number; reverse?: boolean }, want: string[], intruder: string, local: string): Promise<'committed' | 'conflict'> => {
      const t = await c.begin();
      assert.deepEqual(names(await c.scan({ ...scan, txnId: t.txnId })), want);
      await c.put(local, 'x', { txnId: t.txnId });
      token.note(await r.put(intruder, 'new')); // another client, through the stores holding the range
      try {
        await c.commit(t.txnId);
        return 'committed';
      } catch (e) {
        if (e instanceof KvConflictError) return 'conflict';
        throw e;
      } finally {
        token.note(await r.delete(intruder));
      }
    };
    // Forward, limit 3 from h3: reads h3 h4 h5, and h6 decided `more` — the span is [h3, h6].
    assert.equal(await attempt({ start: b('h3'), limit: 3 }, ['h3', 'h4', 'h5'], 'h4x', 'a-c1'), 'conflict');
    assert.equal((await r.get('a-c1')).found, false, 'nothing of the refused transaction written');
    // Reverse, limit 2 below h7: reads h6 h5, h4 decided `more` — the span is [h4, h7).
    assert.equal(await attempt({ end: b('h7'), limit: 2, reverse: true }, ['h6', 'h5'], 'h4x', 'a-c2'), 'conflict');
    assert.equal((await r.get('a-c2')).found, false);
    // Negative control: the same forward scan, the write in the same range but after h6 — outside the span.
    assert.equal(await attempt({ start: b('h3'), limit: 3 }, ['h3', 'h4', 'h5'], 'h7x', 'a-c3'), 'committed');
    assert.equal((await r.get('a-c3')).value?.toString(), 'x');
    token.note(await r.delete('a-c3'));
  });

  it('a snapshot scan (no transaction) through store 4 reads the remote range at that snapshot', async () => {
    const c = await via4();
    const r = others();
    const { version } = token.note(await r.put('h5', 'changed'));
    const before = await c.scan({ snapshotTs: version - 1, limit: 100 });
    assert.deepEqual(names(before), keys);
    assert.equal(before.kvs.find((x) => x.key.toString() === 'h5')?.value.toString(), 'v-h5', 'the version below the snapshot');
    const at = await c.scan({ snapshotTs: version, start: b('a8'), limit: 8 });
    assert.deepEqual(names(at), keys.slice(8, 16));
    assert.equal(at.kvs.find((x) => x.key.toString() === 'h5')?.value.toString(), 'changed');
    const rev = await c.scan({ snapshotTs: version, end: b('q1'), limit: 4, reverse: true });
    assert.deepEqual(names(rev), ['q0', 'h9', 'h8', 'h7']);
    assert.equal(rev.more, true);
    // Without a snapshot the store still refuses (the client's range-by-range fallback reads it instead).
    await assert.rejects(c.scan({ limit: 100 }), /holds no replica of the range/);
    token.note(await r.put('h5', 'v-h5'));
  });

  // Last: it kills store 1.
  it('a remote scan meeting the lock of a transaction committed at its primary (coordinator killed) rolls it forward: never a torn read', async function () {
    const victim = cluster.node(0); // raft id 1: holds every range, coordinates the transaction
    const dir = mkdtempSync(join(tmpdir(), 'kvs-remote-scan-'));
    const marker = join(dir, 'crashed');
    try {
      victim.setEnv({ KVS_TEST_CRASH_AT_TXN: `1:after-primary-commit:${marker}` });
      await victim.stop();
      await victim.restart();
      await victim.waitReady(30_000);
      await until('store 1 knows a leader of every range', async () => ((await admin.ranges(victim.address).catch(() => undefined))?.ranges.every((x) => x.leaderId > 0) ? true : undefined), 30_000, 100);
      const r = new KvClient({ endpoints: cluster.addresses.slice(1, 3), timeoutMs: 20_000 });
      clients.push(r);
      token.note(await r.batch([{ op: 'put', key: 'a-lock', value: 'old' }, { op: 'put', key: 'h-lock', value: 'old' }]));
      const coord = new KvClient({ endpoints: [victim.address], timeoutMs: 5000, maxAttempts: 1 });
      clients.push(coord);
      const t = await coord.begin();
      await coord.put('a-lock', 'new', { txnId: t.txnId }); // range 1: the primary
      await coord.put('h-lock', 'new', { txnId: t.txnId }); // the middle range: its lock stays
      await coord.commit(t.txnId).catch(() => undefined);
      await until('the coordinator died after its primary commit', async () => (existsSync(marker) && !victim.running ? true : undefined), 20_000);
      const c = await via4({ timeoutMs: 20_000 });
      const t0 = Date.now();
      const seen = await c.txn(
        async (tx) => {
          const primary = (await tx.get('a-lock')).value?.toString(); // range 1 on store 4: the snapshot is past the commit
          const remote = await tx.scan({ start: b('h-lock'), end: b('h-lock\x00') });
          return [primary, remote.kvs[0]?.value.toString()];
        },
        { readOnly: true, maxAttempts: 3 },
      );
      const took = Date.now() - t0;
      assert.deepEqual(seen, ['new', 'new'], 'all of the committed transaction, through the remote scan');
      assert.ok(took < 3000 + 10_000, `settled in ${took} ms (TTL 3 s)`);
    } finally {
      victim.setEnv({});
      if (!victim.running) await victim.restart();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a store without a usable replica of the meta range locates ranges through its peers (multi-process, 3 + 1 joined store)', function () {
  this.timeout(180_000);
  let cluster: ProcessCluster;
  let extra: NodeProcess | undefined;
  let admin: AdminClient;
  let middle = 0;
  const clients: KvClient[] = [];
  const token = new Token();

  before(async function () {
    cluster = await startRaftCluster(190);
    admin = new AdminClient(cluster.addresses, 10_000);
    middle = await splitThree(admin);
    const w = new KvClient({ endpoints: cluster.addresses, timeoutMs: 15_000 });
    for (const k of keys) token.note(await w.put(k, `v-${k}`));
    w.close();
    // Store 4 joins (no member of range 1, whose replica there stays empty) and is placed on the middle range only.
    const probe = new NodeProcess({ nodeId: 'n4', host: '127.0.0.193' });
    await probe.allocatePorts();
    extra = new NodeProcess({ nodeId: 'n4', host: '127.0.0.193', grpcPort: probe.grpcPort, httpPort: probe.httpPort, extraArgs: ['--raft-id', '4', '--join', '--peers', peersOf(cluster.nodes.map((n) => n.spec))] });
    await extra.start();
    const address = extra.address;
    await until('store 4 is a learner of the middle range', async () => (await admin.call<{ ok: boolean }>('AddLearner', { raftId: 4, address, groupId: middle }).catch(() => undefined))?.ok ? true : undefined, 30_000, 300);
    await until('store 4 is a voter of the middle range', async () => (await admin.call<{ ok: boolean }>('Promote', { raftId: 4, maxLag: 0, groupId: middle }).catch(() => undefined))?.ok ? true : undefined, 60_000, 300);
    await until(
      'store 4 serves the middle range',
      async () => {
        const r = await admin.ranges(address).catch(() => undefined);
        return r?.ranges.length === 1 && r.ranges[0]!.start.toString() === 'g' && r.ranges[0]!.leaderId > 0 ? true : undefined;
      },
      30_000,
      200,
    );
    // Store 4 asks these stores where the other ranges are.
    await directoryComplete(cluster.addresses);
  });
  afterEach(function () {
    collectLogsOnFailure(this, [...(cluster?.nodes ?? []), extra]);
  });
  after(async function () {
    for (const c of clients) c.close();
    admin?.close();
    await extra?.cleanup();
    await cluster?.cleanup();
  });

  it('store 4 lists only the middle range: its replica of range 1 (empty, no member) is not routed to', async () => {
    const r = await admin.ranges(extra!.address);
    assert.deepEqual(r.ranges.map((x) => [Number(x.rangeId), x.start.toString(), x.end.toString()]), [[middle, 'g', 'p']]);
  });

  it('a transaction through store 4 reads, scans and writes the ranges it lacks (located by its peers) and commits atomically', async () => {
    const c = new KvClient({ endpoints: [extra!.address], timeoutMs: 15_000, maxAttempts: 5, piecewiseScans: false });
    clients.push(c);
    await token.give(c);
    const { commitTs, result } = await c.txnDetailed(async (tx) => {
      const a0 = (await tx.get('a0')).value?.toString();
      const q9 = (await tx.get('q9')).value?.toString();
      const all = names(await tx.scan({ limit: 100 }));
      const rev = names(await tx.scan({ limit: 12, reverse: true }));
      await tx.put('h-j4', '1'); // the middle range: local, the commit point
      await tx.put('a-j4', '1');
      await tx.put('q-j4', '1');
      return { a0, q9, all, rev };
    });
    assert.equal(result.a0, 'v-a0');
    assert.equal(result.q9, 'v-q9');
    assert.deepEqual(result.all, keys);
    assert.deepEqual(result.rev, [...keys].reverse().slice(0, 12));
    const r = new KvClient({ endpoints: cluster.addresses, timeoutMs: 15_000 });
    clients.push(r);
    for (const k of ['h-j4', 'a-j4', 'q-j4']) assert.equal((await r.get(k)).version, commitTs, k);
    // And a plain snapshot scan through store 4 over all three ranges.
    const snap = await c.scan({ snapshotTs: commitTs, limit: 100 });
    assert.deepEqual(names(snap), [...keys, 'a-j4', 'h-j4', 'q-j4'].sort());
  });
});
