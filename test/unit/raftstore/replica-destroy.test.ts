// Crash-safe destroy of a removed range replica (raftstore/replica-destroy.ts): a store that crashed in
// the middle of deleting a replica's state finishes the destroy at its next start instead of reopening a
// half-deleted Raft group. Negative control: the same half-deleted state without the tombstone is opened
// again, and the store does not start at all (the Raft core panics on a commit index past its log).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteSpan } from '../../../node/src/engine/engine.js';
import { LevelEngine } from '../../../node/src/engine/level-engine.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { latestKey } from '../../../node/src/mvcc/keyspace.js';
import { raftKeys } from '../../../node/src/raftstore/peer-storage.js';
import { destroyReplicaState, pendingDestroys, writeTombstone } from '../../../node/src/raftstore/replica-destroy.js';
import { openSingleVoter } from '../../helpers/single-voter.js';

const b = (s: string): Buffer => Buffer.from(s);

describe('replica destroy: crash safety', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kvs-destroy-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A store split at 'm' with a key on each side, closed; returns the right range's id. */
  async function splitStore(): Promise<number> {
    const node = await openSingleVoter({ engine: await LevelEngine.open(dir) });
    const { right } = await node.split(b('m'));
    await node.settled();
    await node.kvStore.put(b('a'), b('1'));
    await node.kvStore.put(b('x'), b('2'));
    await node.close();
    return right.rangeId;
  }

  /** A crash in the middle of deleting the right range's Raft state: its entries are gone, its hard state is not. */
  async function halfDelete(g: number, tombstone: boolean): Promise<void> {
    const e = await LevelEngine.open(dir);
    if (tombstone) await writeTombstone(e, { groupId: g, data: { start: b('m'), end: Buffer.alloc(0) } });
    await deleteSpan(e, raftKeys.entriesStart(g), raftKeys.entriesEnd(g));
    await e.close();
  }

  it('an interrupted destroy is finished at the next start, before any replica opens', async () => {
    const g = await splitStore();
    await halfDelete(g, true);
    const node = await openSingleVoter({ engine: await LevelEngine.open(dir) });
    try {
      assert.deepEqual([...node.replicas.keys()], [1], 'the half-deleted range is not opened');
      assert.equal(await node.engine.get(latestKey(b('x'))), undefined, "the destroyed range's keys are gone");
      assert.deepEqual(await pendingDestroys(node.engine), [], 'the tombstone is removed once done');
      assert.equal((await node.kvStore.get(b('a'))).value?.toString(), '1', 'the remaining range is intact');
    } finally {
      await node.close();
    }
  });

  it('negative control: without the tombstone the half-deleted group is reopened, and the store cannot start', async () => {
    const g = await splitStore();
    await halfDelete(g, false);
    // The group's hard state says commit 7 while its log is gone: the Raft core refuses it.
    await assert.rejects(openSingleVoter({ engine: await LevelEngine.open(dir), awaitLeaders: false }), /out of range/);
    assert.ok(g > 1);
  });

  it('a completed destroy leaves no key of the group and no tombstone', async () => {
    const e = new MemoryEngine();
    await e.write([{ type: 'put', key: raftKeys.hardState(7), value: b('h') }, { type: 'put', key: latestKey(b('q')), value: b('v') }]);
    const crashed: number[] = [];
    await destroyReplicaState(e, { groupId: 7, data: { start: b('p'), end: b('r') } }, (i) => crashed.push(i));
    assert.deepEqual(crashed, [0, 1, 2, 3, 4, 5], 'raft, meta, sessions, data, latest, transaction locks/records');
    assert.equal(await e.get(raftKeys.hardState(7)), undefined);
    assert.equal(await e.get(latestKey(b('q'))), undefined);
    assert.deepEqual(await pendingDestroys(e), []);
  });
});
