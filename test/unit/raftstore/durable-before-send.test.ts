// A message that promises durability leaves only after the write it promises is durable, with the store's
// batching in place (group-committed log writes, merged apply writes, one transport frame per store
// round): a follower's append response after its entries are synced, a vote after the vote is synced.
// Negative controls (by hand): sending a Ready's messages before its persist step (peer.ts handleReady) fails
// the vote case; doing so only for Readies with entries fails the append case.
import assert from 'node:assert/strict';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { EMPTY, EntryType, type Message, MessageType } from '../../../node/src/raft/index.js';
import { DATA_GROUP_ID } from '../../../node/src/raftstore/raft-node.js';
import { holdSyncedWrites, openNodeOfThree } from '../../helpers/held-writes.js';

const base = { groupId: DATA_GROUP_ID, to: 1, entries: [], commit: 1, reject: false, rejectHint: 0, context: EMPTY };
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('raftstore: durability before the promise leaves (batched store round)', function () {
  this.timeout(20_000);

  it('a follower acknowledges an append and grants a vote only once its synced write is done', async function () {
    const engine = new MemoryEngine();
    const synced: string[] = [];
    const { hold, release } = holdSyncedWrites(engine, (_ops, opts) => {
      if (opts?.sync === true) synced.push(`sync#${synced.length + 1}`);
    });
    const node = await openNodeOfThree(engine);
    // What leaves the store, and how many synced writes were done when it left.
    const sent: Array<{ m: Message; syncedBefore: number }> = [];
    node.transport.send = (msgs) => {
      for (const m of msgs) sent.push({ m, syncedBefore: synced.length });
    };
    try {
      // 1. A vote request from 3 at a new term (no leader known: no lease or quorum check holds it): the vote must be synced before MsgVoteResp.
      hold();
      node.router.deliver([{ ...base, type: MessageType.Vote, from: 3, term: 2, logTerm: 1, index: 1, commit: 0 }]);
      await turns(20);
      assert.deepEqual(
        sent.filter((s) => s.m.type === MessageType.VoteResp),
        [],
        'no vote while the vote is not durable',
      );
      const s0 = synced.length;
      release();
      for (let i = 0; i < 100 && !sent.some((s) => s.m.type === MessageType.VoteResp); i++) await turns(1);
      const vote = sent.find((s) => s.m.type === MessageType.VoteResp);
      assert.ok(vote !== undefined, 'the vote is sent once durable');
      assert.equal(vote.m.reject, false, 'granted');
      assert.ok(vote.syncedBefore > s0, 'sent after the synced write completed');

      // 2. An append from 3, now leader of term 2: the entries must be synced before MsgAppResp.
      hold();
      node.router.deliver([{ ...base, type: MessageType.App, from: 3, term: 2, logTerm: 1, index: 1, entries: [{ term: 2, index: 2, type: EntryType.Normal, data: EMPTY }] }]);
      await turns(20);
      assert.deepEqual(
        sent.filter((s) => s.m.type === MessageType.AppResp),
        [],
        'no append response while the entries are not durable',
      );
      const s1 = synced.length;
      release();
      for (let i = 0; i < 100 && !sent.some((s) => s.m.type === MessageType.AppResp); i++) await turns(1);
      const resp = sent.find((s) => s.m.type === MessageType.AppResp);
      assert.ok(resp !== undefined, 'the append is acknowledged once durable');
      assert.equal(resp.m.index, 2);
      assert.equal(resp.m.reject, false);
      assert.ok(resp.syncedBefore > s1, 'sent after the synced write completed');
    } finally {
      release();
      await node.close();
    }
  });
});
