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

interface Fixture {
  nodes: Map<number, NodeProcess>;
  /** "i>j": node i's link to node j. */
  links: Map<string, FaultProxy>;
  admin: AdminClient;
  client: KvClient;
}

/** A proxied 3-store cluster for the describe block it is called in (started before, cleaned up after). */
function proxiedCluster(o: { hostNet: number; proxyNet: number; env?: Record<string, string> }): Fixture {
  const f = { nodes: new Map(), links: new Map() } as Fixture;
  before(async function () {
    ({ nodes: f.nodes, links: f.links } = await startProxiedCluster({ n: N, ...o }));
    const addresses = [...f.nodes.values()].map((n) => n.address);
    f.admin = new AdminClient(addresses);
    f.client = new KvClient({ endpoints: addresses, timeoutMs: 20_000 });
    await until('a leader', async () => ((await f.admin.status().catch(() => undefined))?.leaderAddress ? true : undefined), 30_000, 100);
  });
  afterEach(function () {
    collectLogsOnFailure(this, [...f.nodes.values()]);
  });
  after(async function () {
    f.client?.close();
    f.admin?.close();
    for (const p of f.links.values()) await p.close().catch(() => undefined);
    for (const n of f.nodes.values()) await n.cleanup();
  });
  return f;
}

/**
 * Splits off R = [m, ∞), writes m1, moves R's leadership to store 1, waits until store 3 holds R, cuts
 * every link into store 3 and runs `remove` (the removal of store 3's replica), then heals the links.
 */
async function removeWhileCutOff(f: Fixture, remove: (R: number, storeEndpoints: Map<number, string>) => Promise<void>): Promise<{ R: number; holds: () => Promise<boolean> }> {
  const { right } = await f.admin.splitRange(Buffer.from('m'));
  const R = right.rangeId;
  await f.client.put('m1', 'before');
  const storeEndpoints = new Map([...f.nodes].map(([id, n]) => [id, n.address] as const));
  await transferRangeLeader(f.admin, R, 1, { storeEndpoints });
  const s3 = f.nodes.get(3)!.address;
  const holds = async () => (await f.admin.ranges(s3)).ranges.some((r) => r.rangeId === R);
  await until('store 3 holds R', async () => ((await holds()) ? true : undefined), 10_000, 100);
  // Store 3 hears nothing from now on: the commit of its removal never reaches it.
  for (const i of [1, 2]) f.links.get(`${i}>3`)!.partition();
  await remove(R, storeEndpoints);
  for (const i of [1, 2]) f.links.get(`${i}>3`)!.heal();
  return { R, holds };
}

/** R lists stores 1 and 2, still serves, and keeps what it had. */
async function rangeServes(f: Fixture, R: number, why = ''): Promise<void> {
  const map = await collectShardMap(f.admin);
  assert.deepEqual(map.ranges.find((x) => x.rangeId === R)!.replicas.map((x) => x.storeId).sort(), [1, 2], `range ${R} lists stores 1 and 2${why}`);
  await f.client.put('m2', 'after');
  assert.equal((await f.client.get('m1')).value?.toString(), 'before');
  assert.equal((await f.client.get('m2')).value?.toString(), 'after');
}

/** Store 3's replica of R is gone and stays gone (not re-created by a stray message). */
async function goneFromStore3(f: Fixture, R: number, holds: () => Promise<boolean>, withinMs: number): Promise<void> {
  await until(`store 3 no longer holds range ${R}`, async () => ((await holds()) ? undefined : true), withinMs, 200);
  await sleep(2000);
  assert.ok(!(await holds()), `store 3 holds range ${R} again`);
  assert.equal((await f.admin.status(f.nodes.get(3)!.address)).rangesHeld, 1, 'store 3 holds range 1 only');
}

describe('a replica removed while cut off from its range (removeReplica finishes it)', function () {
  this.timeout(120_000);
  const f = proxiedCluster({ hostNet: 6, proxyNet: 7 });

  it('destroys the cut-off replica itself once the range no longer lists it', async function () {
    const steps: string[] = [];
    const { R, holds } = await removeWhileCutOff(f, (R, storeEndpoints) => removeReplica(f.admin, R, 3, { storeEndpoints, avoidStores: [3], timeoutMs: 30_000, onStep: (m) => steps.push(m) }));
    await rangeServes(f, R, ` (${steps.join('; ')})`);
    await goneFromStore3(f, R, holds, 10_000);
  });
});

// The same recipe with the bare conf change (Admin RemoveMember of the range: no kvsctl, no operator
// step afterwards): the range's own members answer the removed replica's messages with its descriptor
// (a stale-replica notice on the Raft transport) and it destroys itself. Negative control: with the
// notices off (--test-disable-stale-notices) it is still there seconds later.
for (const notices of [true, false]) {
  describe(`a replica removed while cut off, told by its range (${notices ? 'stale-replica notices' : 'negative control: notices off'})`, function () {
    this.timeout(120_000);
    const f = proxiedCluster({ hostNet: notices ? 8 : 10, proxyNet: notices ? 9 : 11, ...(notices ? {} : { env: { KVS_TEST_DISABLE_STALE_NOTICES: '1' } }) });

    it(notices ? 'the removed replica destroys itself once a member answers its messages' : 'the removed replica stays (nothing tells it)', async function () {
      // The conf change alone, at R's leader (store 1).
      const { R, holds } = await removeWhileCutOff(f, (R) =>
        until('R without store 3', async () => ((await f.admin.removeMember(3, false, R).catch(() => undefined)) !== undefined ? true : undefined), 20_000, 200).then(() => undefined),
      );
      if (notices) await goneFromStore3(f, R, holds, 15_000);
      else {
        await sleep(8000);
        assert.ok(await holds(), `without notices store 3 still holds its removed replica of range ${R}`);
      }
      await rangeServes(f, R);
    });
  });
}
