// The shared replica-move steps and shard map (client/range-moves.ts) against a scripted Admin client:
// which report of a range wins, the step order of a move, where each call runs first, and which answers
// are retried.
import { strict as assert } from 'node:assert';
import { AdminClient, KvDeadlineError, KvPreconditionFailedError, KvRoutingError, KvUnavailableError, collectShardMap, addReplica, moveReplica, transferRangeLeader, type RangeInfo } from '../../../node/src/client/index.js';

const info = (rangeId: number, o: Partial<RangeInfo> = {}): RangeInfo => ({
  rangeId,
  start: Buffer.alloc(0),
  end: Buffer.alloc(0),
  confVer: 1,
  version: 1,
  replicas: [],
  leaderId: 0,
  leaderAddress: '',
  approximateBytes: 0,
  role: 'Follower',
  term: 1,
  applied: 0,
  proposals: 0,
  readsPerSec: 0,
  writesPerSec: 0,
  ...o,
});

/** An AdminClient whose calls answer from a script (no network). */
class ScriptedAdmin extends AdminClient {
  readonly calls: string[] = [];
  constructor(
    endpoints: string[],
    private readonly answer: (method: string, req: Record<string, unknown>, n: number) => unknown,
    private readonly perStore: Record<string, { storeId: number; ranges: RangeInfo[] } | Error> = {},
  ) {
    super(endpoints);
  }
  override async call<Res>(method: string, req: object, _timeoutMs?: number, tryLast: readonly string[] = []): Promise<Res> {
    const r = req as Record<string, unknown>;
    this.calls.push(`${method} ${String(r.raftId)} range ${String(r.groupId)} last=[${tryLast.join(',')}]`);
    const a = this.answer(method, r, this.calls.length);
    if (a instanceof Error) throw a;
    return a as Res;
  }
  override async ranges(endpoint?: string): Promise<{ storeId: number; ranges: RangeInfo[] }> {
    const r = this.perStore[endpoint ?? ''];
    if (r === undefined || r instanceof Error) throw r ?? new KvUnavailableError('down');
    return r;
  }
}

describe('client/range-moves', () => {
  it('collectShardMap: the newest epoch wins, then the leader of the highest term; stores report errors', async () => {
    const admin = new ScriptedAdmin(['a:1', 'b:1', 'c:1'], () => undefined, {
      'a:1': { storeId: 1, ranges: [info(1, { role: 'Leader', term: 3, leaderId: 1 }), info(7, { confVer: 2, start: Buffer.from('m') })] },
      'b:1': { storeId: 2, ranges: [info(1, { role: 'Leader', term: 4, leaderId: 2 }), info(7, { confVer: 3, start: Buffer.from('m'), leaderId: 2 })] },
      'c:1': new KvUnavailableError('connection refused'),
    });
    try {
      const map = await collectShardMap(admin);
      assert.deepEqual(map.ranges.map((r) => [r.rangeId, r.leaderId, r.confVer]), [[1, 2, 1], [7, 2, 3]]);
      assert.deepEqual(map.stores.map((s) => [s.endpoint, s.storeId, s.ranges, s.leaders, s.error]), [['a:1', 1, 2, 1, undefined], ['b:1', 2, 2, 1, undefined], ['c:1', 0, 0, 0, 'connection refused']]);
    } finally {
      admin.close();
    }
    const none = new ScriptedAdmin(['a:1'], () => undefined, {});
    await assert.rejects(collectShardMap(none), KvUnavailableError);
    none.close();
  });

  it('moveReplica: learner → promote (retried while not caught up) → remove; source and target endpoints tried last', async () => {
    let promotes = 0;
    const admin = new ScriptedAdmin(['s1:1', 's2:1', 's3:1', 's4:1'], (method) => {
      if (method === 'Promote' && ++promotes < 3) return new KvPreconditionFailedError('learner 4 is not caught up in range 7 (...); retry later');
      return { ok: true, message: `${method} ok` };
    });
    const steps: string[] = [];
    try {
      await moveReplica(admin, 7, 2, 4, { storeEndpoints: new Map([[1, 's1:1'], [2, 's2:1'], [3, 's3:1'], [4, 's4:1']]), avoidStores: [3], onStep: (m) => steps.push(m) });
    } finally {
      admin.close();
    }
    assert.deepEqual(admin.calls, [
      'AddLearner 4 range 7 last=[s4:1,s3:1,s2:1]',
      'Promote 4 range 7 last=[s4:1,s3:1,s2:1]',
      'Promote 4 range 7 last=[s4:1,s3:1,s2:1]',
      'Promote 4 range 7 last=[s4:1,s3:1,s2:1]',
      'RemoveMember 2 range 7 last=[s2:1,s3:1]',
    ]);
    assert.deepEqual(steps, ['AddLearner ok', 'Promote ok', 'RemoveMember ok']);
  });

  it('addReplica waits until the target no longer holds an old replica the range does not list (its last acks would count as the new learner\'s)', async () => {
    let asked = 0;
    const order: string[] = [];
    const admin = new ScriptedAdmin(['s1:1', 's4:1'], (method) => {
      order.push(method);
      return { ok: true, message: `${method} ok` };
    });
    // s1 reports range 7 on stores 1,2,3 (4 was removed); s4 still holds its old replica twice, then destroyed it.
    admin.ranges = async (endpoint?: string) => {
      if (endpoint === 's1:1') return { storeId: 1, ranges: [info(7, { confVer: 5, role: 'Leader', replicas: [1, 2, 3].map((x) => ({ storeId: x, peerId: x, role: 'voter' })) })] };
      order.push(`s4 asked (${++asked})`);
      return { storeId: 4, ranges: asked <= 2 ? [info(7, { confVer: 4, replicas: [1, 2, 3, 4].map((x) => ({ storeId: x, peerId: x, role: 'voter' })) })] : [] };
    };
    const t0 = Date.now();
    try {
      await addReplica(admin, 7, 4, { storeEndpoints: new Map([[1, 's1:1'], [4, 's4:1']]) });
    } finally {
      admin.close();
    }
    // (1) its own report holds range 7, (2) the shard map (newest descriptor: 4 not listed), (3) gone.
    assert.deepEqual(order, ['s4 asked (1)', 's4 asked (2)', 's4 asked (3)', 'AddLearner', 'Promote']);
    assert.ok(Date.now() - t0 >= 1000, 'a grace period for messages still in flight');
  });

  it('transferRangeLeader: runs on the current leader first; a transfer that timed out is asked for again', async () => {
    let n = 0;
    const admin = new ScriptedAdmin(['s1:1', 's2:1', 's3:1'], () => (++n === 1 ? new KvDeadlineError('leadership did not move to 3 within 5000 ms (leader is 2)') : { ok: true, message: 'leader is now 3' }));
    const steps: string[] = [];
    try {
      await transferRangeLeader(admin, 7, 3, { storeEndpoints: new Map([[1, 's1:1'], [2, 's2:1'], [3, 's3:1']]), leader: 2, onStep: (m) => steps.push(m) });
    } finally {
      admin.close();
    }
    assert.deepEqual(admin.calls, ['TransferLeader undefined range 7 last=[s1:1,s3:1]', 'TransferLeader undefined range 7 last=[s1:1,s3:1]']);
    assert.deepEqual(steps, ['leader is now 3']);
  });

  it('moveReplica: a refusal that waiting cannot fix, or a range no store holds, fails at once', async () => {
    const refused = new ScriptedAdmin(['s1:1'], (method) => (method === 'RemoveMember' ? new KvPreconditionFailedError('removing 2 leaves 1 healthy of 2 voters of range 7 (quorum 2); use force to override') : { ok: true, message: 'ok' }));
    await assert.rejects(moveReplica(refused, 7, 2, 4, { timeoutMs: 5000 }), /use force/);
    assert.equal(refused.calls.length, 3);
    refused.close();
    const missing = new ScriptedAdmin(['s1:1'], () => new KvRoutingError('range 7 has no replica on this store', 'RANGE_NOT_FOUND', 7));
    await assert.rejects(moveReplica(missing, 7, 2, 4, { timeoutMs: 5000 }), KvRoutingError);
    assert.equal(missing.calls.length, 1);
    missing.close();
  });
});
