// A store that scales with its ranges (issue 12, deliverable 5): the tick pass visits awake replicas
// only, the store-wide GC pass wakes no hibernating range that has nothing to collect (and caps the
// wakes it does make), and store liveness does not count this store's own pause as its peers' silence.
import assert from 'node:assert/strict';
import client from 'prom-client';
import { openSingleVoter } from '../../helpers/single-voter.js';
import type { RaftNode } from '../../../node/src/raftstore/raft-node.js';
import { StoreGcPass, type GcReplica } from '../../../node/src/raftstore/gc-pass.js';
import { StoreLiveness } from '../../../node/src/raftstore/store-liveness.js';
import { registerRaftMetrics } from '../../../node/src/raftstore/metrics.js';
import { leaderLivenessWake, type LeaderLivenessInput } from '../../../node/src/raftstore/quiesce.js';
import { LivenessWakeQueue, type LivenessWakeTarget } from '../../../node/src/raftstore/liveness-wakes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function splitInto(node: RaftNode, n: number): Promise<void> {
  for (let i = 1; i < n; i++) await node.split(Buffer.from(`k${String(i).padStart(3, '0')}`));
  await node.settled();
  for (const r of node.replicas.values()) assert.ok(await r.peer.waitFor(() => r.peer.isLeader, 5000), `range ${r.rangeId} leads`);
}

async function allQuiesced(node: RaftNode, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ([...node.replicas.values()].some((r) => !r.peer.quiesced)) {
    if (Date.now() > until) assert.fail(`${[...node.replicas.values()].filter((r) => !r.peer.quiesced).length} ranges still awake`);
    await sleep(20);
  }
}

describe('store scale: the tick pass visits awake replicas only', function () {
  this.timeout(30_000);

  it('with every range hibernating a tick pass ticks nothing; a woken range is ticked again', async () => {
    const node = await openSingleVoter();
    try {
      await splitInto(node, 12);
      await allQuiesced(node);
      assert.equal(node.awake.size, 0);
      const t0 = { ...node.tickStats };
      await sleep(200); // ≈ 10 ticks of 20 ms
      assert.ok(node.tickStats.passes - t0.passes >= 3, 'the store ticker runs');
      assert.equal(node.tickStats.replicaTicks - t0.replicaTicks, 0, 'no replica ticked while all hibernate');
      // Traffic to one range wakes that range only (a woken range does not wake its neighbours).
      const proposals0 = node.wakeReasons.get('proposal') ?? 0;
      await node.kvStore.put(Buffer.from('k005x'), Buffer.from('v'));
      const woken = [...node.replicas.values()].filter((r) => !r.peer.quiesced).map((r) => r.rangeId);
      assert.equal(woken.length, 1, `one range woke: ${woken.join(',')} ${JSON.stringify([...node.wakeReasons])}`);
      assert.equal(node.awake.size, woken.length);
      const t1 = node.tickStats.replicaTicks;
      await sleep(60);
      assert.ok(node.tickStats.replicaTicks > t1, 'the awake range is ticked');
      assert.equal(node.wakeReasons.get('proposal'), proposals0 + 1, 'woken by the proposal');
      await allQuiesced(node);
    } finally {
      await node.close();
    }
  });

  it('negative control: without quiescence every replica is ticked on every pass', async () => {
    const node = await openSingleVoter({ quiesce: false });
    try {
      await splitInto(node, 6);
      await sleep(100);
      const t0 = { ...node.tickStats };
      await sleep(200);
      const passes = node.tickStats.passes - t0.passes;
      assert.ok(passes >= 3, `passes ${passes}`);
      assert.equal(node.tickStats.replicaTicks - t0.replicaTicks, passes * 6);
    } finally {
      await node.close();
    }
  });
});

describe('store scale: the store-wide GC pass', function () {
  this.timeout(30_000);

  it('does not wake a hibernating range whose safe point cannot reach its last write; wakes it once when it can', async () => {
    // Lifetime 1.5 s: during the first 1.5 s after the writes no step of an idle range reaches its last write.
    const node = await openSingleVoter({ store: { gcLifetimeMs: 1500 } });
    try {
      await splitInto(node, 8);
      for (let i = 1; i < 8; i++) await node.kvStore.put(Buffer.from(`k${String(i).padStart(3, '0')}a`), Buffer.from('v'));
      await allQuiesced(node);
      const before = [...node.replicas.values()].map((r) => r.store.sm.safePoint);
      const r1 = await node.runGcPass();
      assert.equal(r1.woken, 0);
      assert.equal(node.wakeReasons.get('gc') ?? 0, 0, 'no range woke for GC');
      assert.deepEqual([...node.replicas.values()].map((r) => r.store.sm.safePoint), before, 'no safe point proposed');
      assert.ok([...node.replicas.values()].every((r) => r.peer.quiesced), 'all still hibernate');
      // Once the lifetime has passed, one proposal per range reaches its last write; then nothing is left.
      await sleep(1600);
      const r2 = await node.runGcPass();
      assert.equal(r2.woken, node.replicas.size);
      for (const r of node.replicas.values()) assert.equal(r.store.sm.safePoint, r.store.sm.lastWriteTs, `range ${r.rangeId}: one step to its last write`);
      await allQuiesced(node);
      const r3 = await node.runGcPass();
      assert.equal(r3.woken, 0, 'a range at its last write never wakes for GC again');
      assert.equal(r3.ran, 0, 'nor scans again');
      const registry = new client.Registry();
      registerRaftMetrics(registry, node);
      assert.match(await registry.metrics(), new RegExp(`^kvs_store_wakes_by_reason\\{reason="gc"\\} ${node.replicas.size}$`, 'm'));
    } finally {
      await node.close();
    }
  });

  it('negative control: an awake range proposes intermediate safe points (the step a hibernating one skips)', async () => {
    const node = await openSingleVoter({ quiesce: false, store: { gcLifetimeMs: 1500 } });
    try {
      await node.kvStore.put(Buffer.from('a'), Buffer.from('v'));
      await sleep(100);
      const r = node.first.store;
      const sp0 = r.sm.safePoint;
      const plan = r.gcPlan();
      assert.ok(plan.propose !== undefined && plan.propose < r.sm.lastWriteTs, 'awake: a step below the last write');
      assert.equal(plan.wakes, false);
      await node.runGcPass();
      assert.ok(r.sm.safePoint > sp0 && r.sm.safePoint < r.sm.lastWriteTs);
    } finally {
      await node.close();
    }
  });

  it('visits every replica but runs only those with work, and caps the wakes of one pass', async () => {
    const runs: number[] = [];
    const fake = (id: number, plan: { propose: number | undefined; scan: boolean; wakes: boolean }): GcReplica => ({
      rangeId: id,
      store: {
        gcPlan: () => plan,
        runGc: async () => {
          runs.push(id);
          plan = { propose: undefined, scan: false, wakes: false };
          return 0;
        },
        gcBacklogged: false,
      },
    });
    const replicas = [
      fake(1, { propose: undefined, scan: false, wakes: false }),
      fake(2, { propose: undefined, scan: true, wakes: false }),
      fake(3, { propose: 5, scan: false, wakes: true }),
      fake(4, { propose: 5, scan: false, wakes: true }),
      fake(5, { propose: 5, scan: false, wakes: true }),
      fake(6, { propose: 7, scan: true, wakes: false }),
    ];
    const pass = new StoreGcPass(() => replicas, { intervalMs: 0, maxWakesPerPass: 2 });
    const r1 = await pass.pass();
    assert.deepEqual(runs, [2, 3, 4, 6]);
    assert.deepEqual({ visited: r1.visited, ran: r1.ran, woken: r1.woken, deferred: r1.deferred }, { visited: 6, ran: 4, woken: 2, deferred: 1 });
    const r2 = await pass.pass();
    assert.deepEqual(runs, [2, 3, 4, 6, 5], 'the deferred wake comes at the next pass');
    assert.equal(r2.woken, 1);
    const r3 = await pass.pass();
    assert.equal(r3.ran, 0);
  });
});

describe('store scale: store liveness and this store\'s own pauses', function () {
  it("a late check does not count this store's pause as the peers' silence; a dead store still goes down", function () {
    const l = new StoreLiveness(600, 0, { checkIntervalMs: 50 });
    l.heard(2, 1, 0);
    l.heard(3, 1, 0);
    assert.deepEqual(l.check(50), { down: [], up: [] });
    // The loop stalls for 1 s: the frames of both peers are queued behind this check.
    assert.deepEqual(l.check(1050), { down: [], up: [] }, 'no peer declared down after our own stall');
    assert.equal(l.pausesForgiven, 1);
    // The queued frames are processed: store 2 is alive, store 3 said nothing (dead).
    l.heard(2, 1, 1060);
    assert.deepEqual(l.check(1100), { down: [3], up: [] }, 'the dead store goes down at the next on-time check');
    assert.equal(l.live(2, 1100), true);
  });

  it('negative control: without the pause credit the same stall declares every peer down', function () {
    const l = new StoreLiveness(600, 0);
    l.heard(2, 1, 0);
    l.heard(3, 1, 0);
    assert.deepEqual(l.check(50), { down: [], up: [] });
    assert.deepEqual(l.check(1050), { down: [2, 3], up: [] });
  });
});

describe('store scale: a quiesced leader and store liveness changes', function () {
  const base = (over: Partial<LeaderLivenessInput> = {}): LeaderLivenessInput => ({
    self: 1,
    lastIndex: 10,
    voters: [1, 2, 3],
    votersOutgoing: [],
    learners: [],
    progress: new Map([
      [2, { match: 10, replicating: true }],
      [3, { match: 10, replicating: true }],
    ]),
    down: [],
    up: [],
    restarted: [],
    live: () => true,
    ...over,
  });

  it('sleeps on when a minority store goes down or a caught-up member flaps back', function () {
    assert.equal(leaderLivenessWake(base({ down: [3], live: (id) => id !== 3 })), undefined);
    assert.equal(leaderLivenessWake(base({ up: [3] })), undefined);
    assert.equal(leaderLivenessWake(base({ down: [9], live: (id) => id !== 9 })), undefined, 'not a member');
  });

  it('wakes when the live voters lose quorum (either configuration), a member restarted, or came back behind', function () {
    assert.equal(leaderLivenessWake(base({ down: [2, 3], live: () => false })), 'live voters below quorum');
    assert.equal(leaderLivenessWake(base({ down: [3], live: (id) => id === 1 || id === 4, voters: [1, 4], votersOutgoing: [1, 2, 3] })), 'live voters below quorum');
    assert.equal(leaderLivenessWake(base({ up: [3], restarted: [3] })), 'member 3 restarted');
    const behind = new Map([
      [2, { match: 10, replicating: true }],
      [3, { match: 7, replicating: false }],
    ]);
    assert.equal(leaderLivenessWake(base({ up: [3], progress: behind })), 'member 3 is behind');
    assert.equal(leaderLivenessWake(base({ up: [4], learners: [4] })), 'member 4 is behind', 'a learner never acknowledged');
  });
});

describe('store scale: staggered liveness wake-ups', function () {
  class Fake implements LivenessWakeTarget {
    quiesced = true;
    woke = 0;
    constructor(
      readonly isLeader: boolean,
      readonly leader: number,
      private readonly work: boolean = true,
    ) {}
    wakeLeaderDown(): void {
      this.quiesced = false;
      this.woke++;
    }
    wakeLeaderOnLiveness(): string | undefined {
      if (!this.work) return undefined;
      this.quiesced = false;
      this.woke++;
      return 'work';
    }
  }

  it('wakes at most perTick per drain, and a range whose leader store is back before its turn sleeps on', function () {
    const q = new LivenessWakeQueue(100);
    const followers = Array.from({ length: 250 }, () => new Fake(false, 3));
    for (const f of followers) q.enqueue(f);
    let live = false;
    assert.equal(q.drain(() => live), 100);
    assert.equal(q.drain(() => live), 100);
    assert.equal(q.pending, 50);
    live = true; // store 3 was heard again: a flap
    assert.equal(q.drain(() => live), 0);
    assert.equal(q.pending, 0);
    assert.equal(followers.filter((f) => f.woke === 1).length, 200);
    assert.equal(followers.filter((f) => f.quiesced).length, 50, 'the last 50 never woke');
  });

  it('skips replicas awake already or leading; a leader wakes only when the change gives it work', function () {
    const q = new LivenessWakeQueue(10);
    const awake = new Fake(false, 3);
    awake.quiesced = false;
    const leaderWithWork = new Fake(true, 1, true);
    const leaderIdle = new Fake(true, 1, false);
    const noLeader = new Fake(false, 0);
    q.enqueue(awake);
    q.enqueue(noLeader);
    const change = { down: [3], up: [], restarted: [] };
    q.enqueue(leaderWithWork, change);
    q.enqueue(leaderIdle, change);
    assert.equal(q.drain(() => false), 1);
    assert.deepEqual([awake.woke, noLeader.woke, leaderWithWork.woke, leaderIdle.woke], [0, 0, 1, 0]);
    assert.equal(q.stats.skipped, 3);
  });

  it('negative control: with an unbounded budget a flap wakes every range in one drain', function () {
    const q = new LivenessWakeQueue(Infinity);
    const followers = Array.from({ length: 250 }, () => new Fake(false, 3));
    for (const f of followers) q.enqueue(f);
    assert.equal(q.drain(() => false), 250);
  });
});

describe('store scale: meta directory publishing', function () {
  this.timeout(30_000);

  it('a round checks only ranges whose record may have changed; a split is published again', async () => {
    const node = await openSingleVoter({ metaPublishIntervalMs: 50 });
    try {
      await splitInto(node, 6);
      const dir = node.replicas.get(1)!.store.sm.meta!.directory;
      const until = Date.now() + 5000;
      while (node.meta.pendingRecords().length > 0) {
        assert.ok(Date.now() < until, 'every led range published');
        await sleep(20);
      }
      let checks = 0;
      const check = dir.check.bind(dir);
      dir.check = (rec) => {
        checks++;
        return check(rec);
      };
      node.meta.pendingRecords(); // learns that every record is unchanged
      checks = 0;
      assert.deepEqual(node.meta.pendingRecords(), []);
      assert.equal(checks, 0, 'unchanged ranges are not checked again');
      await node.split(Buffer.from('k0025'));
      await node.settled();
      // The split changed the left half's descriptor and made a new range: both are checked (and published).
      const until2 = Date.now() + 5000;
      while (node.meta.pendingRecords().length > 0) {
        assert.ok(Date.now() < until2, 'the split halves published');
        await sleep(20);
      }
      assert.ok(checks >= 2, `the changed ranges were checked (${checks})`);
      assert.equal(dir.size, 7);
    } finally {
      await node.close();
    }
  });
});
