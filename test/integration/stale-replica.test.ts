// A replica removed while it hears nothing from its range (`kvsctl range move` / `store drain`,
// client/range-moves.ts removeReplica). A replica learns of its own removal only from the commit of the
// conf change; when that message is lost, the leader never writes to it again and the replica stays —
// a zombie campaigning forever (PreCandidate), still counted by its store (`rangesHeld`), and a later
// move back to that store waits for it to go (awaitOldReplicaGone). Seen as a flake of drain.test.ts
// ("store 2 holds range 1 only" timed out; store 2's removed replica was last a PreCandidate).
// Recipe: 3 stores, every store-to-store link through a fault proxy; range R = [m, ∞) on all three, led
// by store 1; every link into store 3 cut (bytes lost); removeReplica(R, store 3); the links healed. The
// removal must finish the job: store 3 holds no replica of R, and R serves writes on stores 1 and 2.
import assert from 'node:assert/strict';
import { AdminClient, KvClient, collectShardMap, removeReplica, transferRangeLeader } from '../../node/src/client/index.js';
import { type NodeProcess, collectLogsOnFailure, sleep, until } from '../helpers/cluster-process.js';
import type { FaultProxy } from '../helpers/process-proxy.js';
import { startProxiedCluster } from '../helpers/proxied-cluster.js';

const N = 3;

describe('a replica removed while cut off from its range (removeReplica finishes it)', function () {
  this.timeout(120_000);
  let nodes = new Map<number, NodeProcess>();
  /** "i>j": node i's link to node j. */
  let links = new Map<string, FaultProxy>();
  let admin: AdminClient | undefined;
  let client: KvClient | undefined;

  before(async function () {
    ({ nodes, links } = await startProxiedCluster({ n: N, hostNet: 6, proxyNet: 7 }));
    const addresses = [...nodes.values()].map((n) => n.address);
    admin = new AdminClient(addresses);
    client = new KvClient({ endpoints: addresses, timeoutMs: 20_000 });
    await until('a leader', async () => ((await admin!.status().catch(() => undefined))?.leaderAddress ? true : undefined), 30_000, 100);
  });
  afterEach(function () {
    collectLogsOnFailure(this, [...nodes.values()]);
  });
  after(async function () {
    client?.close();
    admin?.close();
    for (const p of links.values()) await p.close().catch(() => undefined);
    for (const n of nodes.values()) await n.cleanup();
  });

  it('destroys the cut-off replica itself once the range no longer lists it', async function () {
    const { right } = await admin!.splitRange(Buffer.from('m'));
    const R = right.rangeId;
    await client!.put('m1', 'before');
    const storeEndpoints = new Map([...nodes].map(([id, n]) => [id, n.address] as const));
    await transferRangeLeader(admin!, R, 1, { storeEndpoints });
    const s3 = nodes.get(3)!.address;
    await until('store 3 holds R', async () => ((await admin!.ranges(s3)).ranges.some((r) => r.rangeId === R) ? true : undefined), 10_000, 100);

    // Store 3 hears nothing from now on: the commit of its removal never reaches it.
    for (const i of [1, 2]) links.get(`${i}>3`)!.partition();
    const steps: string[] = [];
    await removeReplica(admin!, R, 3, { storeEndpoints, avoidStores: [3], timeoutMs: 30_000, onStep: (m) => steps.push(m) });
    for (const i of [1, 2]) links.get(`${i}>3`)!.heal();

    const map = await collectShardMap(admin!);
    const r = map.ranges.find((x) => x.rangeId === R)!;
    assert.deepEqual(r.replicas.map((x) => x.storeId).sort(), [1, 2], `range ${R} lists stores 1 and 2 (${steps.join('; ')})`);
    // The removed replica does not linger on store 3 (and is not re-created by a stray message).
    await until(`store 3 no longer holds range ${R}`, async () => ((await admin!.ranges(s3)).ranges.some((x) => x.rangeId === R) ? undefined : true), 10_000, 200);
    await sleep(2000);
    assert.ok(!(await admin!.ranges(s3)).ranges.some((x) => x.rangeId === R), `store 3 holds range ${R} again`);
    assert.equal((await admin!.status(s3)).rangesHeld, 1, 'store 3 holds range 1 only');
    // R still serves, and keeps what it had.
    await client!.put('m2', 'after');
    assert.equal((await client!.get('m1')).value?.toString(), 'before');
    assert.equal((await client!.get('m2')).value?.toString(), 'after');
  });
});

// The same recipe with the bare conf change (Admin RemoveMember of the range: no kvsctl, no operator
// step afterwards): the range's own members answer the removed replica's messages with its descriptor
// (a stale-replica notice on the Raft transport) and it destroys itself. Negative control: with the
// notices off (--test-disable-stale-notices) it is still there seconds later.
for (const notices of [true, false]) {
  describe(`a replica removed while cut off, told by its range (${notices ? 'stale-replica notices' : 'negative control: notices off'})`, function () {
    this.timeout(120_000);
    let nodes = new Map<number, NodeProcess>();
    let links = new Map<string, FaultProxy>();
    let admin: AdminClient | undefined;
    let client: KvClient | undefined;

    before(async function () {
      ({ nodes, links } = await startProxiedCluster({ n: N, hostNet: notices ? 8 : 10, proxyNet: notices ? 9 : 11, ...(notices ? {} : { env: { KVS_TEST_DISABLE_STALE_NOTICES: '1' } }) }));
      const addresses = [...nodes.values()].map((n) => n.address);
      admin = new AdminClient(addresses);
      client = new KvClient({ endpoints: addresses, timeoutMs: 20_000 });
      await until('a leader', async () => ((await admin!.status().catch(() => undefined))?.leaderAddress ? true : undefined), 30_000, 100);
    });
    afterEach(function () {
      collectLogsOnFailure(this, [...nodes.values()]);
    });
    after(async function () {
      client?.close();
      admin?.close();
      for (const p of links.values()) await p.close().catch(() => undefined);
      for (const n of nodes.values()) await n.cleanup();
    });

    it(notices ? 'the removed replica destroys itself once a member answers its messages' : 'the removed replica stays (nothing tells it)', async function () {
      const { right } = await admin!.splitRange(Buffer.from('m'));
      const R = right.rangeId;
      await client!.put('m1', 'before');
      const storeEndpoints = new Map([...nodes].map(([id, n]) => [id, n.address] as const));
      await transferRangeLeader(admin!, R, 1, { storeEndpoints });
      const s3 = nodes.get(3)!.address;
      const holds = async () => (await admin!.ranges(s3)).ranges.some((r) => r.rangeId === R);
      await until('store 3 holds R', async () => ((await holds()) ? true : undefined), 10_000, 100);
      for (const i of [1, 2]) links.get(`${i}>3`)!.partition();
      // The conf change alone, at R's leader (store 1).
      await until('R without store 3', async () => ((await admin!.removeMember(3, false, R).catch(() => undefined)) !== undefined ? true : undefined), 20_000, 200);
      for (const i of [1, 2]) links.get(`${i}>3`)!.heal();
      const map = await collectShardMap(admin!);
      assert.deepEqual(map.ranges.find((x) => x.rangeId === R)!.replicas.map((x) => x.storeId).sort(), [1, 2]);
      if (notices) {
        await until(`store 3 no longer holds range ${R}`, async () => ((await holds()) ? undefined : true), 15_000, 200);
        await sleep(2000);
        assert.ok(!(await holds()), `store 3 holds range ${R} again`);
        assert.equal((await admin!.status(s3)).rangesHeld, 1, 'store 3 holds range 1 only');
      } else {
        await sleep(8000);
        assert.ok(await holds(), `without notices store 3 still holds its removed replica of range ${R}`);
      }
      await client!.put('m2', 'after');
      assert.equal((await client!.get('m1')).value?.toString(), 'before');
      assert.equal((await client!.get('m2')).value?.toString(), 'after');
    });
  });
}
