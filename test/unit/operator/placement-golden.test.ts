// Golden tests of the placement planner (issue 13): (spec, stores, ranges, steps in flight) → steps +
// summary, one case per pain the design must make impossible. Each case also asserts the point it is
// about, so a golden rewritten without review still fails where it matters.
// UPDATE_GOLDEN=1 rewrites test/unit/operator/golden/placement/*.yaml; review the diff before committing.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from '../../../operator/src/api/gen-crd.js';
import { PlacementSpecError } from '../../../operator/src/placement/errors.js';
import { planPlacement } from '../../../operator/src/placement/planner.js';
import type { PlacementInput, PlacementPlan, PlacementStep } from '../../../operator/src/placement/types.js';
import { NOW_MS, range, spec, store, stores } from './placement-fixtures.js';

const goldenDir = resolve(repoRoot(), 'test/unit/operator/golden/placement');

interface Case {
  name: string;
  why: string;
  input: PlacementInput;
  check: (p: PlacementPlan) => void;
}

const only = (p: PlacementPlan, rangeId: number) => p.steps.filter((s) => 'rangeId' in s && s.rangeId === rangeId);
const types = (steps: PlacementStep[]) => steps.map((s) => s.type);

const cases: Case[] = [
  {
    name: 'steady',
    why: 'six ranges spread over three zones, replicas and leaders even: no step, Balanced',
    input: {
      spec: spec(),
      stores: stores(3),
      ranges: [range(1, [1, 2, 3]), range(2, [2, 3, 1]), range(3, [3, 1, 2]), range(4, [1, 2, 3]), range(5, [2, 3, 1]), range(6, [3, 1, 2])],
      nowMs: NOW_MS,
    },
    check: (p) => {
      assert.deepEqual(p.steps, []);
      assert.equal(p.summary.balanced, true);
      assert.equal(p.summary.reason, 'Balanced');
    },
  },
  {
    name: 'scale-out-imbalance',
    why: 'scale-out 3→6 stores (zones a,b,c twice): every range still on stores 1-3, all led by store 1 — balance moves to the new stores within maxConcurrentMoves (2), each in the source zone; leaderships spread over the existing voters',
    input: {
      spec: spec(),
      stores: stores(6),
      ranges: [1, 2, 3, 4, 5, 6].map((id) => range(id, [1, 2, 3])),
      nowMs: NOW_MS,
    },
    check: (p) => {
      const adds = p.steps.filter((s) => s.type === 'AddLearner');
      assert.equal(adds.length, 2, 'exactly maxConcurrentMoves replica moves');
      for (const a of adds) assert.ok(a.type === 'AddLearner' && a.storeId >= 4 && a.cause === 'balance');
      assert.ok(p.steps.some((s) => s.type === 'TransferLeader' && s.cause === 'leader-balance' && s.fromStoreId === 1));
      assert.equal(p.summary.balanced, false);
      assert.equal(p.summary.imbalance.replicas, 1);
    },
  },
  {
    name: 'drain-slow-learner',
    why: 'store 4 drains; range 1 has its learner on store 5 still catching up: it waits (no promote, no remove of the draining voter, no second learner); range 2 is led from store 4: leadership moves first; range 3 gets the one move the budget leaves',
    input: {
      spec: spec(),
      stores: [...stores(3), store(4, 'a', { draining: true }), store(5, 'a'), store(6, 'b')],
      ranges: [range(1, [4, 2, 3], { learners: [5], pending: [5], leader: 2 }), range(2, [4, 2, 3]), range(3, [1, 2, 4]), range(4, [1, 2, 4])],
      nowMs: NOW_MS,
    },
    check: (p) => {
      assert.deepEqual(only(p, 1), [], 'range 1 waits for its learner');
      assert.deepEqual(types(only(p, 2)), ['TransferLeader']);
      assert.deepEqual(only(p, 3).map((s) => s.type === 'AddLearner' && s.cause), ['drain']);
      assert.deepEqual(only(p, 4), [], 'budget: 1 in flight + 1 new = maxConcurrentMoves');
      assert.equal(p.summary.reason, 'Draining');
    },
  },
  {
    name: 'store-lost-during-drain',
    why: 'store 4 drains and store 2 has been down 45 min (> storeDownTimeout 30 min): re-replicating the lost voter comes before the drain; a range between promote and remove drops the LOST voter first, never the draining one while both remain',
    input: {
      spec: spec({ maxConcurrentMoves: 3 }),
      stores: [store(1, 'a'), store(2, 'b', { downForMin: 45 }), store(3, 'c'), store(4, 'a', { draining: true }), store(5, 'b'), store(6, 'c')],
      ranges: [range(1, [4, 2, 3], { leader: 3 }), range(2, [1, 4, 6]), range(3, [1, 2, 4, 5], { leader: 1 })],
      nowMs: NOW_MS,
    },
    check: (p) => {
      const r1 = only(p, 1);
      assert.equal(r1.length, 1);
      assert.ok(r1[0]!.type === 'AddLearner' && r1[0]!.cause === 'replace-lost' && r1[0]!.storeId === 5, 'the lost voter is replaced in its own zone (b)');
      assert.ok(only(p, 2)[0]?.type === 'AddLearner');
      const r3 = only(p, 3);
      assert.ok(r3[0]?.type === 'RemoveReplica' && r3[0].storeId === 2, 'the lost voter goes first');
      assert.equal(p.steps.indexOf(r1[0]!) < p.steps.indexOf(only(p, 2)[0]!), true, 'replace-lost before drain');
      assert.equal(p.summary.stores.find((s) => s.storeId === 2)?.state, 'lost');
    },
  },
  {
    name: 'two-zones-to-one',
    why: 'zones a (stores 1-3) and b (4-6); zone b has been down past the timeout: ranges with two voters in b have no majority (no step, a reason); ranges with one voter in b are re-replicated inside zone a — spreading is a preference, the replication factor is not',
    input: {
      spec: spec({ maxConcurrentMoves: 4 }),
      stores: [store(1, 'a'), store(2, 'a'), store(3, 'a'), store(4, 'b', { downForMin: 40 }), store(5, 'b', { downForMin: 40 }), store(6, 'b', { downForMin: 40 })],
      ranges: [range(1, [1, 2, 4]), range(2, [2, 3, 5]), range(3, [1, 4, 5], { leader: null }), range(4, [3, 6, 4], { leader: null })],
      nowMs: NOW_MS,
    },
    check: (p) => {
      assert.ok(only(p, 1)[0]?.type === 'AddLearner' && (only(p, 1)[0] as { storeId: number }).storeId === 3);
      assert.ok(only(p, 2)[0]?.type === 'AddLearner' && (only(p, 2)[0] as { storeId: number }).storeId === 1);
      assert.deepEqual(only(p, 3), []);
      assert.deepEqual(only(p, 4), []);
      assert.deepEqual(p.blocked.map((b) => b.rangeId), [3, 4]);
      assert.equal(p.summary.unavailable, 2);
      assert.equal(p.summary.reason, 'RangesUnavailable');
    },
  },
  {
    name: 'operator-killed-between-add-and-promote',
    why: 'a restarted operator (nothing in flight, no memory) sees range 1 with a caught-up learner: Promote, not a second AddLearner; range 2 with a learner still catching up: wait; range 3 killed between promote and remove (4 voters): RemoveReplica of the most loaded voter',
    input: {
      spec: spec(),
      stores: stores(6),
      ranges: [range(1, [1, 2, 3], { learners: [4] }), range(2, [1, 2, 3], { learners: [5], pending: [5] }), range(3, [1, 2, 3, 6]), range(4, [4, 5, 6])],
      nowMs: NOW_MS,
    },
    check: (p) => {
      assert.deepEqual(types(only(p, 1)), ['Promote']);
      assert.deepEqual(only(p, 2), []);
      assert.deepEqual(types(only(p, 3)), ['RemoveReplica']);
      assert.ok(!p.steps.some((s) => s.type === 'AddLearner'), 'three moves in flight ≥ maxConcurrentMoves: no new one');
      assert.equal(p.summary.movesInFlight, 3);
    },
  },
  {
    name: 'stale-store-returns',
    why: 'store 3 is back after its replicas were re-created on store 6: peers no descriptor lists (lower confVer) are removed on store 3; a peer whose confVer is not older than the meta record (the meta range lags) is kept; range 4, still listing store 3 after the replacement was promoted, drops one voter of zone c safely; no new replica of ranges 1-3 goes to store 3 while it hosts their old peers',
    input: {
      spec: spec(),
      stores: [
        store(1, 'a'),
        store(2, 'b'),
        store(3, 'c', { peers: [{ rangeId: 1, peerId: 103, confVer: 3 }, { rangeId: 2, peerId: 203, confVer: 4 }, { rangeId: 3, peerId: 399, confVer: 5 }, { rangeId: 4, peerId: 403, confVer: 5 }] }),
        store(6, 'c'),
      ],
      ranges: [range(1, [1, 2, 6]), range(2, [2, 6, 1]), range(3, [6, 1, 2]), range(4, [1, 2, 3, 6])],
      nowMs: NOW_MS,
    },
    check: (p) => {
      const stale = p.steps.filter((s) => s.type === 'RemoveStalePeer');
      assert.deepEqual(stale.map((s) => s.type === 'RemoveStalePeer' && [s.rangeId, s.peerId]), [[1, 103], [2, 203]]);
      // Store 3 is the emptiest, but no new replica of a range goes where a stale peer of it still lives.
      assert.ok(!p.steps.some((s) => s.type === 'AddLearner' && s.storeId === 3 && [1, 2, 3].includes(s.rangeId)));
      const r4 = only(p, 4).filter((s) => s.type !== 'RemoveStalePeer');
      assert.ok(r4.length === 1 && r4[0]!.type === 'RemoveReplica' && (r4[0].storeId === 3 || r4[0].storeId === 6), 'the duplicate in zone c goes');
    },
  },
  {
    name: 'range-below-majority',
    why: 'range 1 has two of three voters on stores down (one briefly, one lost): no step at all — not even the learner for the lost one — and a reason for the status; other ranges proceed',
    input: {
      spec: spec(),
      stores: [store(1, 'a'), store(2, 'b', { downForMin: 5 }), store(3, 'c', { downForMin: 50 }), store(4, 'a'), store(5, 'b'), store(6, 'c')],
      ranges: [range(1, [1, 2, 3]), range(2, [1, 3, 5]), range(3, [4, 5, 6])],
      nowMs: NOW_MS,
    },
    check: (p) => {
      assert.deepEqual(only(p, 1), []);
      assert.equal(p.blocked[0]?.rangeId, 1);
      assert.match(p.blocked[0]!.reason, /1 of 3 voters healthy, a majority is 2/);
      assert.ok(only(p, 2)[0]?.type === 'AddLearner', 'range 2 (majority intact) replaces its lost voter');
      assert.equal(p.summary.unavailable, 1);
      assert.equal(p.summary.balanced, false);
      assert.equal(p.summary.reason, 'RangesUnavailable');
    },
  },
  {
    name: 'store-down-within-timeout',
    why: 'store 3 down for 5 min (< storeDownTimeout): a restart is not a loss — no replacement, no move to spread; status UnderReplicated',
    input: {
      spec: spec(),
      stores: [store(1, 'a'), store(2, 'b'), store(3, 'c', { downForMin: 5 }), store(4, 'a'), store(5, 'b'), store(6, 'c')],
      ranges: [range(1, [1, 2, 3]), range(2, [4, 5, 3]), range(3, [4, 5, 6])],
      nowMs: NOW_MS,
    },
    check: (p) => {
      assert.deepEqual(p.steps.filter((s) => s.type !== 'TransferLeader'), []);
      assert.equal(p.summary.underReplicated, 2);
      assert.equal(p.summary.reason, 'UnderReplicated');
    },
  },
  {
    name: 'drain-blocked',
    why: 'scale-in below the replication factor: store 4 drains but only 2 other stores are usable (RF 3): no replica move, a reason (Draining, "cannot move"); the leadership still leaves store 4 (range 1: this pass it gets the transfer, the reason next pass)',
    input: {
      spec: spec(),
      stores: [store(1, 'a'), store(2, 'b'), store(3, 'c', { downForMin: 60 }), store(4, 'a', { draining: true })],
      ranges: [range(1, [4, 1, 2]), range(2, [1, 2, 4])],
      nowMs: NOW_MS,
    },
    check: (p) => {
      assert.deepEqual(types(p.steps), ['TransferLeader']);
      assert.deepEqual(p.blocked.map((b) => b.rangeId), [2]);
      assert.match(p.blocked[0]!.reason, /no usable store with room/);
      assert.equal(p.summary.reason, 'Draining');
      assert.match(p.summary.message, /cannot move/);
    },
  },
  {
    name: 'leader-removed-last',
    why: 'range 1 has 4 voters and the one to remove (draining store 4) leads: TransferLeader first, the removal next pass',
    input: {
      spec: spec(),
      stores: [...stores(3), store(4, 'a', { draining: true })],
      ranges: [range(1, [4, 1, 2, 3])],
      nowMs: NOW_MS,
    },
    check: (p) => {
      assert.deepEqual(p.steps.map((s) => s.type === 'TransferLeader' && [s.fromStoreId, s.cause]), [[4, 'finish-move']]);
    },
  },
  {
    name: 'in-flight-not-observed-yet',
    why: 'an AddLearner issued last pass is not in the observed descriptor yet (same epoch): the range gets no second step and the move counts against maxConcurrentMoves; a transfer already observed (leader on its target) no longer holds its range',
    input: {
      spec: spec({ maxConcurrentMoves: 2 }),
      stores: [...stores(3), store(4, 'a', { draining: true }), store(5, 'a')],
      ranges: [range(1, [4, 2, 3], { leader: 2 }), range(2, [4, 2, 3], { leader: 2 }), range(3, [1, 2, 4], { leader: 2 })],
      inFlight: [
        { step: { type: 'AddLearner', rangeId: 1, storeId: 5, epoch: { confVer: 5, version: 2 }, cause: 'drain', why: '' } },
        { step: { type: 'TransferLeader', rangeId: 2, fromStoreId: 4, toStoreId: 2, epoch: { confVer: 5, version: 2 }, cause: 'drain', why: '' } },
      ],
      nowMs: NOW_MS,
    },
    check: (p) => {
      assert.deepEqual(only(p, 1), []);
      assert.equal(p.steps.filter((s) => s.type === 'AddLearner').length, 1);
      assert.equal(p.summary.movesInFlight, 2);
    },
  },
  {
    name: 'topology-spread',
    why: 'range 1 has two voters in zone a although zone c has a store: a learner in zone c; once promoted the duplicate in zone a is the one removed (range 2 shows that step)',
    input: {
      spec: spec(),
      stores: [store(1, 'a'), store(2, 'a'), store(3, 'b'), store(4, 'c')],
      ranges: [range(1, [1, 2, 3]), range(2, [1, 2, 3, 4], { leader: 3 })],
      nowMs: NOW_MS,
    },
    check: (p) => {
      const r1 = only(p, 1)[0];
      assert.ok(r1?.type === 'AddLearner' && r1.storeId === 4 && r1.cause === 'topology');
      const r2 = only(p, 2)[0];
      assert.ok(r2?.type === 'RemoveReplica' && (r2.storeId === 1 || r2.storeId === 2));
    },
  },
  {
    name: 'leader-load',
    why: 'three stores, every range on each, leaders 4/4/4 by count — but store 1 leads both hot ranges (100 req/s each, the rest 1): one hot leadership leaves store 1 for a voter elsewhere; leader counts stay within one of the mean; the summary reports the leader-load imbalance',
    input: {
      spec: spec(),
      stores: stores(3),
      ranges: [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3].map((leader, i) => range(i + 1, [1, 2, 3], { leader, qps: i < 2 ? 100 : 1 })),
      nowMs: NOW_MS,
    },
    check: (p) => {
      const moves = p.steps.filter((s) => s.type === 'TransferLeader');
      assert.ok(moves.length >= 1);
      assert.ok(moves.some((s) => s.type === 'TransferLeader' && s.fromStoreId === 1 && s.rangeId <= 2 && s.cause === 'leader-balance'), 'a hot range\'s leadership leaves store 1');
      assert.ok(p.summary.imbalance.qps > 1, `leader-load imbalance ${p.summary.imbalance.qps}`);
      assert.equal(p.summary.stores.find((x) => x.storeId === 1)!.qps, 202);
      assert.equal(p.summary.balanced, false);
    },
  },
];

describe('placement planner (golden)', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.why}`, () => {
      const out = planPlacement(c.input);
      const text = `# ${c.why}\n` + stringify(out, { lineWidth: 0, sortMapEntries: false });
      const file = resolve(goldenDir, `${c.name}.yaml`);
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
        if (process.env.UPDATE_GOLDEN !== '1' && process.env.CI) assert.fail(`missing golden file ${file}`);
        mkdirSync(goldenDir, { recursive: true });
        writeFileSync(file, text);
      }
      c.check(out);
      assert.equal(text, readFileSync(file, 'utf8'), `plan differs from ${file} (UPDATE_GOLDEN=1 to rewrite, then review the diff)`);
    });
  }
});

describe('placement planner (properties of the pure function)', () => {
  it('is deterministic, does not mutate its input, and does not depend on the order of stores and ranges', () => {
    for (const c of cases) {
      const before = stringify(c.input);
      const a = planPlacement(c.input);
      assert.deepEqual(planPlacement(c.input), a);
      assert.equal(stringify(c.input), before, `${c.name}: input mutated`);
      const shuffled = { ...c.input, stores: [...c.input.stores].reverse(), ranges: [...c.input.ranges].reverse() };
      assert.deepEqual(planPlacement(shuffled), a, `${c.name}: depends on input order`);
    }
  });

  it('refuses an invalid spec with a typed error', () => {
    const base = cases[0]!.input;
    for (const bad of [{ replicationFactor: 2 }, { replicationFactor: 0 }, { maxConcurrentMoves: 0 }, { storeDownTimeoutMs: -1 }]) {
      assert.throws(() => planPlacement({ ...base, spec: spec(bad) }), (e: unknown) => e instanceof PlacementSpecError && e.code === 'INVALID_PLACEMENT_SPEC');
    }
  });

  it('every step carries the epoch it was planned on (the store refuses it at any other); one step per range per pass', () => {
    let transfers = 0;
    let stale = 0;
    for (const c of cases) {
      const p = planPlacement(c.input);
      const seen = new Set<number>();
      for (const s of p.steps) {
        const r = c.input.ranges.find((x) => x.descriptor.rangeId === s.rangeId)!;
        assert.deepEqual(s.epoch, r.descriptor.epoch, `${c.name}: ${s.type} of range ${s.rangeId}`);
        if (s.type === 'RemoveStalePeer') {
          // The store destroys its replica only against the current descriptor, which must not list it.
          stale++;
          assert.deepEqual(s.descriptorStores, r.descriptor.replicas.map((x) => x.storeId));
          assert.ok(!s.descriptorStores.includes(s.storeId), `${c.name}: stale peer on a store the descriptor lists`);
          continue;
        }
        if (s.type === 'TransferLeader') transfers++;
        assert.ok(!seen.has(s.rangeId), `${c.name}: two steps for range ${s.rangeId}`);
        seen.add(s.rangeId);
      }
    }
    assert.ok(transfers > 0 && stale > 0, 'the cases include leader transfers and stale peers');
  });
});
