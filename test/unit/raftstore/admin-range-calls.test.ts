// Per-range Admin calls (group_id > 0) that land on a store whose replica of the range is not a voter of
// it — here one created on demand that has not received its snapshot yet (no configuration at all) —
// must send the caller on (NOT_LEADER: retry at the leader or another store), not answer from that
// replica's empty view: it claimed "2 is not a voter" (TransferLeader), "holds no replica" (Promote) and,
// worse, reported a RemoveMember as done.
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../../node/src/common/logger.js';
import { MD_ERROR_CODE } from '../../../node/src/common/wire-errors.js';
import { MessageType, type Message } from '../../../node/src/raft/index.js';
import { createAdminHandlers } from '../../../node/src/raftstore/admin.js';
import type { RaftNode } from '../../../node/src/raftstore/raft-node.js';
import { openSingleVoter } from '../../helpers/single-voter.js';

const GROUP = 777;
const heartbeat = (): Message => ({ groupId: GROUP, type: MessageType.Heartbeat, from: 2, to: 1, term: 5, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, context: new Uint8Array() });

function invoke(handlers: grpc.UntypedServiceImplementation, method: string, request: object): Promise<{ err: (grpc.ServiceError & { metadata?: grpc.Metadata }) | null; res: unknown }> {
  return new Promise((resolve) => {
    const h = handlers[method] as grpc.handleUnaryCall<object, unknown>;
    h({ request } as grpc.ServerUnaryCall<object, unknown>, (err, res) => resolve({ err: err as (grpc.ServiceError & { metadata?: grpc.Metadata }) | null, res }));
  });
}

describe('Admin per-range calls on a replica that is not a voter here', function () {
  this.timeout(20_000);
  let node: RaftNode;
  before(async () => {
    node = await openSingleVoter();
    // A leader of range 777 (store 2) keeps talking to this store: after 2 s it creates an empty replica.
    node.router.deliver([heartbeat()]);
    await new Promise((r) => setTimeout(r, 2100));
    node.router.deliver([heartbeat()]);
    await node.settled();
    assert.ok(node.get(GROUP), 'an empty replica of range 777 was created on demand');
    assert.deepEqual(node.get(GROUP)!.peer.status().config.voters, [], 'it has no configuration yet (no snapshot)');
  });
  after(async () => {
    await node.close();
  });

  for (const [method, req] of [
    ['TransferLeader', { toRaftId: 2, groupId: GROUP }],
    ['Promote', { raftId: 3, groupId: GROUP }],
    ['RemoveMember', { raftId: 3, groupId: GROUP }],
    ['AddLearner', { raftId: 3, address: '127.0.0.1:9', groupId: GROUP }],
  ] as const) {
    it(`${method}: NOT_LEADER (ask elsewhere), not an answer from the empty replica`, async () => {
      const { err, res } = await invoke(createAdminHandlers({ node, nodeId: 'n1', logger: silentLogger() }), method, req);
      assert.ok(err, `${method} must fail here, got ${JSON.stringify(res)}`);
      assert.equal(err.metadata?.get(MD_ERROR_CODE)[0], 'NOT_LEADER', err.message);
    });
  }
});
