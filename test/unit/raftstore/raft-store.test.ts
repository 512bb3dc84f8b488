// The whole Kv RPC suite against a single-voter Raft node (RaftNode: PeerStorage + Peer + LocalStore with
// the Peer as command sink and ReadIndex as read barrier), plus NOT_LEADER mapping on both sides.
import assert from 'node:assert/strict';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { silentLogger } from '../../../node/src/common/logger.js';
import { NotLeaderError } from '../../../node/src/kv/errors.js';
import { decodeProposal, encodeProposal, proposalId } from '../../../node/src/raftstore/peer.js';
import { toGrpcStatus } from '../../../node/src/server/status-mapping.js';
import { KvNotLeaderError, fromGrpcError } from '../../../node/src/client/errors.js';
import { rpcSuite } from '../server/rpc-suite.js';
import { openSingleVoter } from '../../helpers/single-voter.js';

rpcSuite('single-voter Raft node (RaftNode over a memory engine)', async (metrics) => {
  const node = await openSingleVoter({ store: { nodeId: 'raft-test', logger: silentLogger(), observer: metrics.storeObserver() } });
  return node.kvStore;
});

describe('raftstore: proposals and NOT_LEADER on the wire', function () {
  it('proposal payloads carry the proposer id and round-trip the command', function () {
    const data = encodeProposal('7:123456789012', { type: 'put', proposedTs: 5, key: Buffer.from('k'), value: Buffer.from('v') });
    const p = decodeProposal(data);
    assert.equal(p.id, '7:123456789012');
    assert.equal(p.cmd.type, 'put');
    // The header's seq is a big-endian u64 (entries already in logs decode the same), up to 2^53 - 1.
    for (const seq of [0, 1, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER]) {
      const d = Buffer.from(encodeProposal(`4294967295:${seq}`, { type: 'noop', proposedTs: 1 }));
      assert.equal(d.readUInt32BE(2), 4294967295);
      assert.equal(d.readBigUInt64BE(6), BigInt(seq));
      assert.equal(proposalId(d), `4294967295:${seq}`);
      assert.equal(decodeProposal(d).id, `4294967295:${seq}`);
    }
  });

  it('NotLeaderError → UNAVAILABLE + kvs-leader metadata → KvNotLeaderError with the hint', function () {
    const s = toGrpcStatus(new NotLeaderError(3, '127.0.0.3:7379'));
    assert.equal(s.code, GrpcStatus.UNAVAILABLE);
    assert.equal(s.metadata.get('kvs-leader')[0], '127.0.0.3:7379');
    assert.equal(s.metadata.get('kvs-error')[0], 'NOT_LEADER');
    const err = Object.assign(new Error(s.details), { code: s.code, details: s.details, metadata: s.metadata });
    const c = fromGrpcError(err);
    assert.ok(c instanceof KvNotLeaderError);
    assert.equal((c as KvNotLeaderError).leaderAddress, '127.0.0.3:7379');
    assert.equal((c as KvNotLeaderError).leaderId, 3);
    assert.equal(c.retryable, true);
    const none = fromGrpcError(Object.assign(new Error('x'), { code: GrpcStatus.UNAVAILABLE, details: 'x', metadata: (() => { const m = new Metadata(); m.set('kvs-error', 'NOT_LEADER'); return m; })() }));
    assert.ok(none instanceof KvNotLeaderError);
    assert.equal((none as KvNotLeaderError).leaderAddress, undefined);
  });
});

describe('client session: a first request abandoned before the server knew the session', function () {
  it('keeps first_unacked at 1 until a request succeeds, then moves on', async function () {
    const { ClientSession } = await import('../../../node/src/client/session.js');
    const s = new ClientSession('c');
    const a = s.acquire();
    s.release(a, false); // timed out (no leader yet): the server may never have seen the session
    const b = s.acquire();
    assert.equal(s.header(b).firstUnacked, 1, 'an unknown session with first_unacked > 1 would be refused as expired');
    s.release(b, true);
    const c = s.acquire();
    assert.equal(s.header(c).firstUnacked, c);
    s.release(c, false); // once confirmed, abandoned results may be forgotten
    assert.equal(s.firstUnacked(), c + 1);
  });
});
