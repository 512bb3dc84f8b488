// A range leader's own log write left in flight (Peer asyncAppend, RawNode.advanceAsync): follower acks
// commit and apply a proposal while the leader's synced write is still held, and the store's log writer
// keeps the apply batch behind that log write, so the engine never holds an applied state without its
// entry. Negative controls: without --raft-async-append (the default) the same proposal waits for the held write (the
// second test); by hand, an apply batch written past the log writer (Peer.applyWrite → engine.write) lands
// before its entry and fails the order assertion ("entry write 5, apply write 4").
import assert from 'node:assert/strict';
import type { EngineOp } from '../../../node/src/engine/engine.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { EMPTY, type Message, MessageType } from '../../../node/src/raft/index.js';
import { DATA_GROUP_ID } from '../../../node/src/raftstore/raft-node.js';
import { holdSyncedWrites, openNodeOfThree } from '../../helpers/held-writes.js';
import { raftKeys } from '../../../node/src/raftstore/peer-storage.js';
import { dataKeyPrefix } from '../../../node/src/mvcc/keyspace.js';

const base = { groupId: DATA_GROUP_ID, to: 1, entries: [], commit: 0, reject: false, rejectHint: 0, context: EMPTY, logTerm: 0, index: 0 };
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

async function leaderWithHeldWrites(asyncAppend: boolean) {
  const engine = new MemoryEngine();
  /** Engine writes in the order they landed. */
  const landed: Array<readonly EngineOp[]> = [];
  const writes = holdSyncedWrites(engine, (ops) => void landed.push(ops));
  const node = await openNodeOfThree(engine, { raftAsyncAppend: asyncAppend });
  const sent: Message[] = [];
  node.transport.send = (msgs) => void sent.push(...msgs);
  const peer = node.peer;
  // Elect node 1: pre-vote and vote granted by 2 and 3.
  peer.campaign();
  for (let i = 0; i < 50 && !peer.isLeader; i++) {
    await turns(2);
    for (const m of sent.filter((x) => x.type === MessageType.PreVote || x.type === MessageType.Vote)) {
      sent.splice(sent.indexOf(m), 1);
      node.router.deliver([{ ...base, type: m.type === MessageType.PreVote ? MessageType.PreVoteResp : MessageType.VoteResp, from: m.to, term: m.term }]);
    }
  }
  assert.ok(peer.isLeader, 'node 1 leads');
  const ackAll = (): void => {
    for (const m of sent.splice(0)) {
      if (m.type === MessageType.App && m.entries.length > 0) {
        node.router.deliver([{ ...base, type: MessageType.AppResp, from: m.to, term: m.term, index: m.entries[m.entries.length - 1]!.index }]);
      } else if (m.type === MessageType.Heartbeat) node.router.deliver([{ ...base, type: MessageType.HeartbeatResp, from: m.to, term: m.term, context: m.context }]);
    }
  };
  // The leader's first entry commits with the followers' acks and is applied.
  for (let i = 0; i < 200; i++) {
    ackAll();
    await turns(1);
    const st = peer.status();
    if (st.commit === st.lastIndex && st.applied === st.commit && st.commit > 1) break;
  }
  return {
    node,
    landed,
    ackAll,
    hold: writes.hold,
    release: writes.release,
  };
}

describe('raftstore: a leader overlaps its own log write (async append)', function () {
  this.timeout(20_000);

  for (const asyncAppend of [true, false]) {
    it(asyncAppend ? 'commits and answers a put on follower acks while its own synced write is held; the apply batch lands after that write' : 'negative control (without --raft-async-append, the default): the put waits for the held write', async function () {
      const t = await leaderWithHeldWrites(asyncAppend);
      try {
        t.hold();
        let answered = false;
        const put = t.node.kvStore.put(Buffer.from('k'), Buffer.from('v')).then((r) => {
          answered = true;
          return r;
        });
        for (let i = 0; i < 200 && !answered; i++) {
          await turns(1);
          t.ackAll();
        }
        const index = t.node.peer.status().lastIndex;
        if (asyncAppend) {
          assert.ok(answered, 'answered while the leader\'s own write is held');
          assert.ok(!t.landed.some((ops) => ops.some((op) => op.key.equals(raftKeys.entry(DATA_GROUP_ID, index)))), 'its log entry has not landed yet');
        } else assert.ok(!answered, 'not answered before the leader\'s own write');
        t.release();
        await put;
        await turns(50);
        const entryAt = t.landed.findIndex((ops) => ops.some((op) => op.key.equals(raftKeys.entry(DATA_GROUP_ID, index))));
        const data = dataKeyPrefix(Buffer.from('k'));
        const dataAt = t.landed.findIndex((ops) => ops.some((op) => op.type === 'put' && op.key.subarray(0, data.length).equals(data)));
        assert.ok(entryAt >= 0 && dataAt >= 0, `both landed (entry write ${entryAt}, apply write ${dataAt})`);
        assert.ok(entryAt <= dataAt, `the apply batch lands with or after its entry (entry write ${entryAt}, apply write ${dataAt})`);
        const get = t.node.kvStore.get(Buffer.from('k'));
        for (let i = 0; i < 50; i++) {
          await turns(1);
          t.ackAll();
        }
        assert.equal((await get).value?.toString(), 'v');
      } finally {
        t.release();
        await t.node.close();
      }
    });
  }
});
