// The store-drain planner (client/drain.ts planDrain): golden step lists for the shapes a drain meets,
// and drainInputOf's reading of a shard map (liveness = answered and a member of range 1).
import { strict as assert } from 'node:assert';
import { DrainUnknownStoreError, KEPT_NO_LEADER_TARGET, KEPT_NO_TARGET, describeStep, drainInputOf, planDrain, type DrainInput, type DrainRange } from '../../../node/src/client/index.js';
import type { RangeInfo } from '../../../node/src/client/index.js';
import type { ShardMap } from '../../../node/src/client/range-moves.js';

/** "1,2,3L" = voters 1 and 2, learner 3. */
const range = (rangeId: number, reps: string, leaderId: number): DrainRange => ({
  rangeId,
  replicas: reps.split(',').map((x) => ({ storeId: Number(x.replace('L', '')), role: x.endsWith('L') ? 'learner' : 'voter' })),
  leaderId,
});
const live = (...ids: number[]) => ids.map((storeId) => ({ storeId, live: true }));
const golden = (input: DrainInput): string[] => planDrain(input).steps.map(describeStep);

describe('client/drain planDrain', () => {
  it('4 stores, 3 replicas per range: leaderships first, then each replica to the store lacking it', () => {
    const input: DrainInput = {
      storeId: 2,
      stores: live(1, 2, 3, 4),
      ranges: [range(1, '1,2,3,4', 2), range(5, '1,2,3', 2), range(6, '2,3,4', 3), range(7, '1,3,4', 1)],
    };
    assert.deepEqual(golden(input), [
      'range 1: move leadership 2 → 4', // 1 and 3 already lead one range each; 4 leads none
      'range 5: move leadership 2 → 1', // voters 1 (leads 7) and 3 (leads 6): a tie, the lower id
      'range 5: move replica 2 → 4',
      'range 6: move replica 2 → 1',
      'range 1: kept: no store to move it to',
    ]);
  });

  it('replicas == stores (3 stores): only leaderships move, every replica is kept', () => {
    const input: DrainInput = { storeId: 1, stores: live(1, 2, 3), ranges: [range(1, '1,2,3', 1), range(2, '1,2,3', 2), range(3, '1,2,3', 1), range(4, '1,2,3', 1)] };
    assert.deepEqual(golden(input), [
      'range 1: move leadership 1 → 3', // 2 already leads range 2
      'range 3: move leadership 1 → 2', // now 2 and 3 lead one each: lower id
      'range 4: move leadership 1 → 3',
      'range 1: kept: no store to move it to',
      'range 2: kept: no store to move it to',
      'range 3: kept: no store to move it to',
      'range 4: kept: no store to move it to',
    ]);
    assert.deepEqual(planDrain(input).steps[3], { type: 'keep-replica', rangeId: 1, storeId: 1, reason: KEPT_NO_TARGET });
  });

  it('targets: the store with the fewest replicas, counting the moves planned so far', () => {
    // Store 1 is drained; stores 4 (2 replicas) and 5 (1) lack ranges 10 and 11. 5 gets 10, then both
    // hold 2 and the tie goes to the lower id.
    const input: DrainInput = {
      storeId: 1,
      stores: live(1, 2, 3, 4, 5),
      ranges: [range(10, '1,2,3', 2), range(11, '1,2,3', 2), range(12, '2,3,4', 2), range(13, '2,4,5', 3)],
    };
    assert.deepEqual(golden(input), ['range 10: move replica 1 → 5', 'range 11: move replica 1 → 4']);
  });

  it('avoid (stores leaving next): they take a leadership or replica only when no other store can', () => {
    // 5 stores, store 5 drained, store 4 leaves next: leaderships and replicas go to 1..3, not to 4 (which
    // leads nothing and holds the fewest replicas); range 8's only other voter is 4, so it takes that
    // leadership after all.
    const input: DrainInput = {
      storeId: 5,
      stores: live(1, 2, 3, 4, 5),
      avoid: [4],
      ranges: [range(1, '1,2,3,4,5', 5), range(6, '1,2,5', 5), range(7, '2,3,5', 5), range(8, '4,5', 5), range(9, '1,2,3', 1), range(10, '1,2,3', 2), range(11, '1,2,3', 3)],
    };
    assert.deepEqual(golden(input), [
      'range 1: move leadership 5 → 1',
      'range 6: move leadership 5 → 2',
      'range 7: move leadership 5 → 3',
      'range 8: move leadership 5 → 4',
      'range 6: move replica 5 → 3',
      'range 7: move replica 5 → 1',
      'range 8: move replica 5 → 1',
      'range 1: kept: no store to move it to',
    ]);
    // Without avoid, store 4 (leading nothing, fewest replicas) is the first choice.
    const plain = golden({ ...input, avoid: [] });
    assert.equal(plain[0], 'range 1: move leadership 5 → 4');
    assert.ok(plain.includes('range 6: move replica 5 → 4'), plain.join('\n'));
  });

  it('a down store (or one that never joined range 1) gets nothing; a down voter takes no leadership', () => {
    const input: DrainInput = {
      storeId: 1,
      stores: [...live(1, 2, 3), { storeId: 4, live: false }],
      ranges: [range(1, '1,2,3,4', 1), range(2, '1,4', 1)],
    };
    assert.deepEqual(golden(input), [
      'range 1: move leadership 1 → 2',
      'range 2: move replica 1 → 2', // 2 and 3 hold one replica each: the lower id; its only other voter (4) is down
      'range 1: kept: no store to move it to',
    ]);
  });

  it('a leader nobody can take over stays, and the plan says so', () => {
    // Stores 2 and 3 are down: nothing can take range 3's leadership or a replica.
    const input: DrainInput = { storeId: 1, stores: [...live(1), { storeId: 2, live: false }, { storeId: 3, live: false }], ranges: [range(3, '1,2,3', 1), range(4, '1,2,3', 2)] };
    const plan = planDrain(input);
    assert.deepEqual(plan.steps[0], { type: 'keep-replica', rangeId: 3, storeId: 1, reason: KEPT_NO_LEADER_TARGET, leaderStays: true });
    assert.deepEqual(golden(input), [`range 3: kept: ${KEPT_NO_LEADER_TARGET}`, 'range 4: kept: no store to move it to']);
  });

  it('an interrupted drain continues: a pending learner elsewhere is the target; a learner on the store is removed', () => {
    const input: DrainInput = {
      storeId: 2,
      stores: live(1, 2, 3, 4),
      ranges: [range(1, '1,2,3,4', 1), range(5, '1,2,3,4L', 1), range(6, '1,3,4,2L', 1), range(7, '1,3,4', 1)],
    };
    assert.deepEqual(golden(input), ['range 5: move replica 2 → 4 (finishes an interrupted move)', 'range 6: remove learner 2 (a move to it that never finished)', 'range 1: kept: no store to move it to']);
    // Run again once everything moved: nothing left but the kept replica of range 1.
    const after: DrainInput = { ...input, ranges: [range(1, '1,2,3,4', 1), range(5, '1,3,4', 1), range(6, '1,3,4', 1), range(7, '1,3,4', 1)] };
    assert.deepEqual(golden(after), ['range 1: kept: no store to move it to']);
  });

  it('a single-voter range moves (the removal hands its leadership to the new replica)', () => {
    assert.deepEqual(golden({ storeId: 1, stores: live(1, 2), ranges: [range(1, '1,2', 2), range(3, '1', 1)] }), ['range 3: move replica 1 → 2', 'range 1: kept: no store to move it to']);
  });

  it('a store that is not in the cluster: typed error naming the known stores', () => {
    const input: DrainInput = { storeId: 9, stores: live(1, 2, 3), ranges: [range(1, '1,2,3', 1)] };
    assert.throws(
      () => planDrain(input),
      (e: unknown) => e instanceof DrainUnknownStoreError && e.code === 'UNKNOWN_STORE' && e.storeId === 9 && /store 9 is not in the cluster \(known stores: 1, 2, 3\); nothing was changed/.test(e.message),
    );
    // Known only from a descriptor (its store is down and not among the endpoints): planned, not an error.
    assert.deepEqual(golden({ storeId: 4, stores: live(1, 2, 3), ranges: [range(1, '1,2,3', 1), range(2, '1,2,4', 1)] }), ['range 2: move replica 4 → 3']);
  });

  it('drainInputOf: stores that answered and are members of range 1 are live; others are known but take nothing', () => {
    const info = (rangeId: number, stores: number[], leaderId: number): RangeInfo => ({
      rangeId,
      start: Buffer.alloc(0),
      end: Buffer.alloc(0),
      confVer: 1,
      version: 1,
      replicas: stores.map((s) => ({ storeId: s, peerId: s, role: 'voter' })),
      leaderId,
      leaderAddress: '',
      approximateBytes: 0,
      role: 'Leader',
      term: 1,
      applied: 1,
      proposals: 0,
      readsPerSec: 0,
      writesPerSec: 0,
    });
    const map: ShardMap = {
      ranges: [info(1, [1, 2, 3], 1), info(2, [1, 2, 5], 2)],
      stores: [
        { endpoint: 'a:1', storeId: 1, ranges: 2, leaders: 1, bytes: 0, qps: 0 },
        { endpoint: 'b:1', storeId: 2, ranges: 2, leaders: 1, bytes: 0, qps: 0 },
        { endpoint: 'c:1', storeId: 0, ranges: 0, leaders: 0, bytes: 0, qps: 0, error: 'unreachable' },
        { endpoint: 'd:1', storeId: 4, ranges: 0, leaders: 0, bytes: 0, qps: 0 },
      ],
    };
    const input = drainInputOf(map, 1);
    assert.deepEqual(input.stores, [
      { storeId: 1, live: true },
      { storeId: 2, live: true },
      { storeId: 3, live: false }, // did not answer
      { storeId: 4, live: false }, // answered, not a member (a --join store never added)
      { storeId: 5, live: false },
    ]);
    assert.deepEqual(golden(input), ['range 1: move leadership 1 → 2', 'range 1: kept: no store to move it to', 'range 2: kept: no store to move it to']);
  });
});
