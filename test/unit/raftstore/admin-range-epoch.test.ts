// Per-range Admin calls carry the epoch they were planned against (issue 13, placement): a store whose
// replica of the range is at another epoch refuses with EPOCH_NOT_MATCH and names the epoch it holds
// (trailer kvs-range-epoch), and changes nothing; unset = no check (kvsctl). The client maps that answer
// to AdminEpochNotMatchError and the operator to NodeAdminError EpochNotMatch (a re-plan, not a failure).
// DestroyStaleReplica destroys a replica only when the named descriptor is newer and does not list the store.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { AdminClient, AdminEpochNotMatchError } from '../../../node/src/client/admin-client.js';
import { silentLogger } from '../../../node/src/common/logger.js';
import { MD_ERROR_CODE, MD_RANGE_EPOCH, MD_RANGE_ID } from '../../../node/src/common/wire-errors.js';
import { protoPath } from '../../../node/src/common/paths.js';
import { PROTO_LOADER_OPTIONS } from '../../../node/src/common/proto.js';
import * as protoLoader from '@grpc/proto-loader';
import type { RangeDescriptor } from '../../../node/src/meta/range-descriptor.js';
import { checkRequestEpoch, createAdminHandlers, destroyStaleReplica } from '../../../node/src/raftstore/admin.js';
import type { RaftNode } from '../../../node/src/raftstore/raft-node.js';
import { toNodeAdminError } from '../../../operator/src/runtime/admin.js';
import { openSingleVoter } from '../../helpers/single-voter.js';

type Answer = { err: (grpc.ServiceError & { metadata?: grpc.Metadata }) | null; res: unknown };
function invoke(handlers: grpc.UntypedServiceImplementation, method: string, request: object): Promise<Answer> {
  return new Promise((resolve) => {
    const h = handlers[method] as grpc.handleUnaryCall<object, unknown>;
    h({ request } as grpc.ServerUnaryCall<object, unknown>, (err, res) => resolve({ err: err as Answer['err'], res }));
  });
}

describe('Admin per-range calls: the epoch they were planned against (issue 13)', function () {
  this.timeout(30_000);
  let node: RaftNode;
  let handlers: grpc.UntypedServiceImplementation;
  let rangeId: number;
  const epochNow = () => ({ ...node.get(rangeId)!.store.descriptor.epoch });
  before(async () => {
    node = await openSingleVoter();
    handlers = createAdminHandlers({ node, nodeId: 'n1', logger: silentLogger() });
    const { right } = await node.split(Buffer.from('m'));
    rangeId = right.rangeId;
    const r = node.get(rangeId)!;
    assert.ok(await r.peer.waitFor(() => r.peer.isLeader, 5000), 'the right half has its leader');
  });
  after(async () => {
    await node.close();
  });

  it('a stale epoch: EPOCH_NOT_MATCH with the range and the epoch it is at, nothing changed (AddLearner, Promote, RemoveMember, TransferLeader)', async () => {
    const cur = epochNow();
    const stale = { confVer: cur.confVer + 7, version: cur.version };
    for (const [method, req] of [
      ['AddLearner', { raftId: 3, address: '127.0.0.1:9', groupId: rangeId, epoch: stale }],
      ['Promote', { raftId: 3, groupId: rangeId, epoch: stale }],
      ['RemoveMember', { raftId: 3, groupId: rangeId, epoch: stale }],
      ['TransferLeader', { toRaftId: 1, groupId: rangeId, epoch: { confVer: cur.confVer, version: cur.version + 1 } }],
    ] as const) {
      const { err, res } = await invoke(handlers, method, req);
      assert.ok(err, `${method} must be refused, got ${JSON.stringify(res)}`);
      assert.equal(err.code, grpc.status.UNAVAILABLE, method);
      assert.equal(err.metadata?.get(MD_ERROR_CODE)[0], 'EPOCH_NOT_MATCH', `${method}: ${err.message}`);
      assert.equal(err.metadata?.get(MD_RANGE_ID)[0], String(rangeId));
      assert.equal(err.metadata?.get(MD_RANGE_EPOCH)[0], `${cur.confVer}.${cur.version}`, method);
    }
    assert.deepEqual(epochNow(), cur, 'nothing changed');
    assert.deepEqual(node.get(rangeId)!.peer.status().config.learners, []);
  });

  it('the current epoch: the change runs (and bumps confVer); the same epoch again is now stale; no epoch = no check', async () => {
    const cur = epochNow();
    const ok = await invoke(handlers, 'AddLearner', { raftId: 3, address: '127.0.0.1:9', groupId: rangeId, epoch: cur });
    assert.equal(ok.err, null, ok.err?.message);
    assert.deepEqual(node.get(rangeId)!.peer.status().config.learners, [3]);
    assert.ok(epochNow().confVer > cur.confVer, 'the replica change bumped confVer');
    // Negative control of the check itself: the same request (same old epoch) is refused now.
    const again = await invoke(handlers, 'RemoveMember', { raftId: 3, groupId: rangeId, epoch: cur });
    assert.equal(again.err?.metadata?.get(MD_ERROR_CODE)[0], 'EPOCH_NOT_MATCH');
    assert.deepEqual(node.get(rangeId)!.peer.status().config.learners, [3], 'the stale removal changed nothing');
    // Without an epoch (kvsctl) the call is not checked.
    const unchecked = await invoke(handlers, 'RemoveMember', { raftId: 3, groupId: rangeId });
    assert.equal(unchecked.err, null, unchecked.err?.message);
    assert.deepEqual(node.get(rangeId)!.peer.status().config.learners, []);
  });

  it('checkRequestEpoch: equal passes, any other confVer or version refuses', () => {
    const r = { rangeId: 9, store: { descriptor: { rangeId: 9, start: Buffer.alloc(0), end: Buffer.alloc(0), epoch: { confVer: 4, version: 2 }, replicas: [{ storeId: 1, peerId: 1, role: 'voter' }] } as RangeDescriptor } };
    checkRequestEpoch(r as never, { confVer: 4, version: 2 });
    checkRequestEpoch(r as never, undefined);
    for (const e of [{ confVer: 3, version: 2 }, { confVer: 5, version: 2 }, { confVer: 4, version: 1 }, { confVer: 4, version: 3 }]) {
      assert.throws(() => checkRequestEpoch(r as never, e), (x: Error & { code?: string }) => x.code === 'EPOCH_NOT_MATCH', JSON.stringify(e));
    }
  });

  it('over gRPC: AdminClient → AdminEpochNotMatchError with the current epoch → operator NodeAdminError EpochNotMatch', async () => {
    const server = new grpc.Server();
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath('admin.proto'), PROTO_LOADER_OPTIONS)) as unknown as { kvs: { v1: { Admin: { service: grpc.ServiceDefinition } } } };
    server.addService(pkg.kvs.v1.Admin.service, handlers);
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    const client = new AdminClient([`127.0.0.1:${port}`], { timeoutMs: 5000 });
    try {
      const cur = epochNow();
      const e = await client.call('Promote', { raftId: 3, groupId: rangeId, epoch: { confVer: cur.confVer - 1, version: cur.version } }).then(
        () => undefined,
        (x: unknown) => x,
      );
      assert.ok(e instanceof AdminEpochNotMatchError, String(e));
      assert.deepEqual(e.current, cur);
      assert.equal(e.rangeId, rangeId);
      const mapped = toNodeAdminError(e, 'Promote');
      assert.equal(mapped.code, 'EpochNotMatch');
      assert.deepEqual(mapped.currentEpoch, cur);
      // Negative control: another refusal is not an epoch mismatch.
      const other = await client.call('Promote', { raftId: 3, groupId: rangeId, epoch: cur }).then(
        () => undefined,
        (x: unknown) => x,
      );
      assert.ok(other && !(other instanceof AdminEpochNotMatchError), String(other));
      assert.equal(toNodeAdminError(other, 'Promote').code, 'Refused');
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});

describe('Admin DestroyStaleReplica (issue 13: a store returning after its replicas were replaced)', function () {
  /** A fake node holding one replica of range 5 at `confVer`, listing `stores`. */
  const fake = (o: { confVer: number; stores: number[]; leader?: boolean; stored?: boolean }) => {
    const destroyed: number[] = [];
    const replica = {
      rangeId: 5,
      store: { descriptor: { rangeId: 5, start: Buffer.from('a'), end: Buffer.from('b'), epoch: { confVer: o.confVer, version: 2 }, replicas: o.stores.map((s) => ({ storeId: s, peerId: s, role: 'voter' })) }, sm: { descriptorStored: o.stored ?? true } },
      peer: { isLeader: o.leader ?? false },
    };
    const node = {
      raftId: 3,
      first: { rangeId: 1 },
      get: (id: number) => (id === 5 && !destroyed.includes(5) ? replica : undefined),
      destroyStaleReplica: (id: number) => {
        destroyed.push(id);
        return true;
      },
    };
    return { node: node as never as Parameters<typeof destroyStaleReplica>[0], destroyed };
  };
  const refused = (f: () => unknown, re: RegExp) => assert.throws(f, (e: Error & { code?: string }) => e.code === 'PRECONDITION_FAILED' && re.test(e.message));

  it('destroys a replica the newer descriptor no longer lists', () => {
    const { node, destroyed } = fake({ confVer: 3, stores: [1, 2, 3] });
    assert.match(destroyStaleReplica(node, 5, { confVer: 6, version: 2 }, [1, 2, 4]), /destroyed the stale replica of range 5/);
    assert.deepEqual(destroyed, [5]);
    // Idempotent: gone is fine.
    assert.match(destroyStaleReplica(node, 5, { confVer: 6, version: 2 }, [1, 2, 4]), /holds no replica/);
  });

  it('refuses whatever is not provably stale: listed, not older, leading, no descriptor yet, range 1', () => {
    const cases: Array<[Parameters<typeof fake>[0], number, number[], RegExp]> = [
      [{ confVer: 3, stores: [1, 2, 3] }, 6, [1, 2, 3], /lists store 3/],
      [{ confVer: 6, stores: [1, 2, 3] }, 6, [1, 2, 4], /not older/],
      [{ confVer: 7, stores: [1, 2, 3] }, 6, [1, 2, 4], /not older/],
      [{ confVer: 3, stores: [1, 2, 3], leader: true }, 6, [1, 2, 4], /leads it/],
      [{ confVer: 0, stores: [], stored: false }, 6, [1, 2, 4], /no descriptor yet/],
    ];
    for (const [o, confVer, stores, re] of cases) {
      const { node, destroyed } = fake(o);
      refused(() => destroyStaleReplica(node, 5, { confVer, version: 2 }, stores), re);
      assert.deepEqual(destroyed, [], re.source);
    }
    const { node } = fake({ confVer: 3, stores: [1, 2, 3] });
    refused(() => destroyStaleReplica(node, 1, { confVer: 9, version: 9 }, [1, 2]), /membership range/);
  });
});
