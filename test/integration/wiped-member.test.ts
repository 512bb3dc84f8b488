// A wiped data dir never returns as the same voter — on real kvs-node processes (127.0.0.x), under a
// writing client (issue 10 item 3).
//
// The schedule that loses acknowledged writes without the check: F2 goes down (it lags), the writer keeps
// getting writes acknowledged by the leader L and the follower F, then L and F are kill -9'd, F's data
// dir is wiped, and F and F2 restart with exactly the same flags. F (empty log, no vote, bootstrap config)
// would grant F2 its vote: F2 leads without the writes L and F acknowledged.
// * With the check: F2 refuses F (the group replicated F's original incarnation to F2 before it went
//   down), no leader forms until L is back, F reports RAFT_IDENTITY_REFUSED, the refusal is counted,
//   and every acknowledged write is readable on L and F2.
// * Negative control (--test-disable-identity-check on every node): F2 is elected with F's vote and
//   acknowledged writes are missing — the test shows the danger the check prevents.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AdminClient, KvClient, type AdminStatus } from '../../node/src/client/index.js';
import { until, raftIdOf, peersOf, ProcessCluster, collectLogsOnFailure, sleep, type NodeProcess } from '../helpers/cluster-process.js';

/** Empties a data dir in place (the process harness keeps the path): what a lost disk looks like. */
function wipe(dir: string): void {
  for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
}

/** One sequential writer over all endpoints: unique keys, records what was acknowledged. */
class Writer {
  readonly acked = new Map<string, string>();
  errors = 0;
  private stopped = false;
  private done: Promise<void> | undefined;
  constructor(private readonly client: KvClient) {}
  start(): void {
    this.done = (async () => {
      for (let i = 0; !this.stopped && i < 100_000; i++) {
        const k = `w${String(i).padStart(6, '0')}`;
        const v = `v${i}`;
        try {
          await this.client.put(k, v, { timeoutMs: 1500 });
          this.acked.set(k, v);
        } catch {
          this.errors++; // outcome unknown: never counted as acknowledged
          await sleep(20);
        }
      }
    })();
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

describe('wiped data dir under the same raft id (multi-process, 127.0.0.x)', function () {
  this.timeout(180_000);
  let cluster: ProcessCluster | undefined;
  const clients: Array<{ close(): void }> = [];
  afterEach(async function () {
    const logs = collectLogsOnFailure(this, cluster?.nodes ?? []);
    if (logs.length > 0) console.log(`node logs: ${logs.join(' ')}`);
    clients.splice(0).forEach((c) => c.close());
    await cluster?.cleanup();
    cluster = undefined;
  });

  const kv = (endpoints: string | string[]) => {
    const c = new KvClient({ endpoints, timeoutMs: 5000 });
    clients.push(c);
    return c;
  };
  const admin = (endpoints: string | string[]) => {
    const a = new AdminClient(endpoints, 3000);
    clients.push(a as unknown as { close(): void });
    return a;
  };

  async function leaderAmong(nodes: NodeProcess[]): Promise<AdminStatus | undefined> {
    const sts = await admin(nodes.map((n) => n.address)).statusAll(1000);
    return sts.find((s) => s?.role === 'Leader');
  }

  /** Steps 1–3 of the schedule; returns the cast. */
  async function schedule(extraFlags: string[]) {
    cluster = await ProcessCluster.start({
      size: 3,
      extraArgs: (self, all) => ['--raft-id', String(raftIdOf(self, all)), '--peers', peersOf(all), '--raft-tick', '50ms', ...extraFlags],
    });
    const c = cluster;
    const idOf = (n: NodeProcess) => c.nodes.indexOf(n) + 1;
    const a = admin(c.addresses);
    // The group records every member's incarnation through the log; every member must have applied all three.
    const sts = await until('3 incarnations recorded on every member', async () => {
      const s = await a.statusAll(1000);
      return s.every((x) => x !== undefined && (x.members ?? []).length === 3 && (x.members ?? []).every((m) => m.incarnation !== '')) ? s : undefined;
    });
    for (const s of sts) for (const m of s!.members ?? []) assert.equal(m.incarnation, sts[Number(m.raftId) - 1]!.incarnation, 'recorded = what the node reports as its own');
    const leaderId = Number(sts[0]!.leaderId);
    const L = c.node(leaderId - 1);
    const [F, F2] = c.nodes.filter((n) => n !== L) as [NodeProcess, NodeProcess];
    const oldIncarnation = sts[idOf(F) - 1]!.incarnation;

    const writer = new Writer(kv(c.addresses));
    writer.start();
    await until('writes acknowledged', async () => (writer.acked.size >= 20 ? true : undefined));
    await F2.kill9();
    // Writes acknowledged by L + F only.
    const before = writer.acked.size;
    await until('writes acknowledged without F2', async () => (writer.acked.size >= before + 50 ? true : undefined));
    await Promise.all([L.kill9(), F.kill9()]);
    wipe(F.dataDir);
    await Promise.all([F.start(), F2.start()]);
    return { c, L, F, F2, idOf, writer, oldIncarnation };
  }

  it('refuses the wiped member: it never votes, no leader forms without the old leader, no acknowledged write is lost', async function () {
    const { L, F, F2, idOf, writer, oldIncarnation } = await schedule([]);
    // F learns it is refused (told back on the stream by F2) and says so.
    const r = await until('F reports RAFT_IDENTITY_REFUSED', async () => {
      const x = await F.readyz();
      return x.code === 'RAFT_IDENTITY_REFUSED' ? x : undefined;
    });
    assert.equal(r.status, 503);
    assert.match(r.reason ?? '', /refused by the group/);
    const fst = await admin(F.address).status(F.address);
    assert.equal(fst.identityRefused, true);
    assert.notEqual(fst.incarnation, oldIncarnation, 'the wiped dir minted a new incarnation');
    // Five seconds (≥ 5 election timeouts of 0.6–1.2 s): F2 + F never form a quorum.
    for (let i = 0; i < 25; i++) {
      assert.equal(await leaderAmong([F, F2]), undefined, 'a leader was elected with the wiped member');
      await sleep(200);
    }
    const f2 = await admin(F2.address).status(F2.address);
    const seen = (f2.members ?? []).find((m) => Number(m.raftId) === idOf(F))!;
    assert.equal(seen.refused, true);
    assert.equal(seen.incarnation, oldIncarnation);
    assert.equal(seen.refusedIncarnation, fst.incarnation);
    const metric = new RegExp(`kvs_raft_peer_identity_refused\\{group="1",peer="${idOf(F)}"\\} (\\d+)`).exec(await F2.metrics());
    assert.ok(metric !== null && Number(metric[1]) > 0, 'refusals counted on F2');
    assert.match(await F.metrics(), /kvs_raft_identity_refused\{group="1"\} 1/);
    assert.match(F2.logTail(400), /refusing raft member: its data dir is not the one the group knows/);

    // The old leader comes back: L + F2 serve again, the writer resumes; F stays refused.
    await L.start();
    const lead = await until('a leader among L and F2', () => leaderAmong([L, F2]), 20_000);
    assert.notEqual(Number(lead.raftId), idOf(F));
    const resumed = writer.acked.size;
    await until('writes acknowledged after L is back', async () => (writer.acked.size >= resumed + 30 ? true : undefined), 30_000);
    await writer.stop();
    assert.equal((await F.readyz()).code, 'RAFT_IDENTITY_REFUSED');
    for (const n of [L, F2]) {
      const c = kv(n.address);
      let missing = 0;
      for (const [k, v] of writer.acked) {
        const g = await c.get(k);
        if (!g.found || g.value?.toString() !== v) missing++;
      }
      assert.equal(missing, 0, `${n.nodeId}: ${missing} of ${writer.acked.size} acknowledged writes missing`);
    }
    const lst = await admin(L.address).status(L.address);
    assert.ok(lst.role === 'Leader' || lst.role === 'Follower');
    console.log(`      acknowledged ${writer.acked.size} writes (${writer.errors} failed attempts), 0 lost; F refused by F2 (${seen.refusedIncarnation.slice(0, 8)}… vs recorded ${oldIncarnation.slice(0, 8)}…)`);
  });

  it('negative control (--test-disable-identity-check): the wiped member votes the lagging one in and acknowledged writes are lost', async function () {
    const { F, F2, writer } = await schedule(['--test-disable-identity-check']);
    const lead = await until('a leader among F and F2', () => leaderAmong([F, F2]), 20_000);
    const leader = Number(lead.raftId) === cluster!.nodes.indexOf(F2) + 1 ? F2 : F;
    await writer.stop();
    const c = kv(leader.address);
    let missing = 0;
    const ackedBefore = [...writer.acked];
    for (const [k] of ackedBefore) if (!(await c.get(k)).found) missing++;
    console.log(`      without the check: leader ${leader.nodeId} elected with the wiped member; ${missing} of ${ackedBefore.length} acknowledged writes missing`);
    assert.ok(missing > 0, 'the danger did not show: acknowledged writes all present');
  });
});
