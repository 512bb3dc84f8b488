// Commands larger than one Raft entry can carry are refused before they are proposed (issue 10 item 4).
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { RAFT_FRAME_RESERVE_BYTES, raftSizeLimits } from '../../../node/src/common/raft-limits.js';

import type { Mutation } from '../../../node/src/kv/api.js';
import { CommandTooLargeError, commandHeaderBound, mutationsBytes } from '../../../node/src/kv/command-size.js';
import { encodeCommand, encodedMutationBytes, type Command } from '../../../node/src/kv/commands.js';
import { InvalidArgumentError } from '../../../node/src/kv/errors.js';
import { LocalStore } from '../../../node/src/kv/local-store.js';
import { openSingleVoter } from '../../helpers/single-voter.js';
import { toGrpcStatus } from '../../../node/src/server/status-mapping.js';
import { sessionArb } from './arbitraries.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const bigMutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((u) => Buffer.from(u)), value: fc.uint8Array({ maxLength: 20_000 }).map((u) => Buffer.from(u)) }),
  fc.record({ op: fc.constant('delete' as const), key: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((u) => Buffer.from(u)) }),
);

function rejectsTooLarge(field: string, limit: number): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof CommandTooLargeError, `expected CommandTooLargeError, got ${String(e)}`);
    assert.ok(e instanceof InvalidArgumentError);
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.field, field);
    assert.equal(e.limit, limit);
    assert.ok(e.bytes > limit);
    assert.match(e.message, new RegExp(`^${field}: .* of ${e.bytes} bytes exceeds the limit of ${limit} bytes one Raft entry can carry`));
    return true;
  };
}

describe('kv/command-size: sizes', () => {
  it('encodedMutationBytes is exact and commandHeaderBound bounds the rest (property)', () => {
    fc.assert(
      fc.property(fc.array(bigMutationArb, { maxLength: 20 }), fc.option(sessionArb, { nil: undefined }), fc.nat({ max: Number.MAX_SAFE_INTEGER }), (ms, session, ts) => {
        const batch: Command = { type: 'batch', proposedTs: ts, mutations: ms, ...(session ? { session } : {}) };
        const exact = encodeCommand(batch).length;
        const empty = encodeCommand({ ...batch, mutations: [] }).length;
        const countBytes = ms.length < 128 ? 1 : 2;
        assert.equal(exact, empty - 1 + countBytes + mutationsBytes(ms));
        assert.ok(exact <= commandHeaderBound(batch) + mutationsBytes(ms));
      }),
      { numRuns: 200 },
    );
    assert.equal(encodedMutationBytes({ op: 'put', key: b('k'), value: Buffer.alloc(200) }), 1 + 1 + 1 + 2 + 200);
  });

  it('limits derive from the message limit: command = message - reserve; frames and snapshot chunks never exceed it', () => {
    const l = raftSizeLimits(8 * 1024 * 1024);
    assert.equal(l.maxCommandBytes, 8 * 1024 * 1024 - RAFT_FRAME_RESERVE_BYTES);
    assert.equal(l.maxFrameBytes, 4 * 1024 * 1024);
    const small = raftSizeLimits(1024 * 1024);
    assert.ok(small.maxFrameBytes <= small.maxCommandBytes && small.snapshotChunkBytes <= small.maxCommandBytes);
    assert.throws(() => raftSizeLimits(RAFT_FRAME_RESERVE_BYTES), RangeError);
  });
});

describe('kv/command-size: LocalStore refuses batches and transactions above maxCommandBytes', function () {
  this.timeout(20_000);
  const LIMIT = 8 * 1024;
  let s: LocalStore;
  beforeEach(async () => {
    s = await LocalStore.open({ gcIntervalMs: 0, maxCommandBytes: LIMIT });
  });
  afterEach(async () => {
    await s.close();
  });

  /** A batch whose command encodes to exactly `bytes`. */
  function batchOf(bytes: number): Mutation[] {
    const m = (len: number): Mutation => ({ op: 'put', key: b('big'), value: Buffer.alloc(len, 7) });
    let len = bytes;
    while (encodeCommand({ type: 'batch', proposedTs: 0, mutations: [m(len)] }).length > bytes) len--;
    return [m(len)];
  }

  it('a batch one byte above the limit is refused (nothing applied); one at the limit is applied', async () => {
    // proposedTs 0 vs the store's clock reading: the store's header is larger (a varint ts), so aim a bit lower.
    const header = encodeCommand({ type: 'batch', proposedTs: Date.now() * 1024, mutations: [] }).length - encodeCommand({ type: 'batch', proposedTs: 0, mutations: [] }).length;
    await assert.rejects(s.batch(batchOf(LIMIT - header + 1)), rejectsTooLarge('mutations', LIMIT));
    assert.equal((await s.get(b('big'))).found, false);
    await s.batch(batchOf(LIMIT - header));
    assert.equal((await s.get(b('big'))).found, true);
    // The status mapping carries the field to the client.
    const st = toGrpcStatus(await s.batch(batchOf(2 * LIMIT)).catch((e: unknown) => e));
    assert.equal(st.errorCode, 'INVALID_ARGUMENT');
    assert.equal(st.metadata.get('kvs-field')[0], 'mutations');
  });

  it('a transaction write set is bounded as it grows: the put that crosses the limit is refused, the transaction stays usable', async () => {
    const t = await s.begin();
    await s.put(b('a'), Buffer.alloc(5000), { txnId: t.txnId });
    await assert.rejects(s.put(b('b'), Buffer.alloc(5000), { txnId: t.txnId }), rejectsTooLarge('writes', LIMIT));
    // Overwriting a key replaces its bytes (not counted twice); a delete counts its key.
    await s.put(b('a'), Buffer.alloc(7000), { txnId: t.txnId });
    await s.delete(b('c'), { txnId: t.txnId });
    await assert.rejects(s.put(b('a'), Buffer.alloc(LIMIT), { txnId: t.txnId }), rejectsTooLarge('writes', LIMIT));
    assert.equal((await s.get(b('b'), { txnId: t.txnId })).found, false, 'the refused write is not buffered');
    await s.commit(t.txnId);
    assert.equal((await s.get(b('a'))).value?.length, 7000);
  });

  it('a read set that tips the commit over the limit fails the commit (never proposed); a retry gets the same error', async () => {
    const t = await s.begin();
    for (let i = 0; i < 20; i++) await s.get(Buffer.alloc(300, i), { txnId: t.txnId });
    await s.put(b('w'), Buffer.alloc(3000), { txnId: t.txnId });
    await assert.rejects(s.commit(t.txnId), rejectsTooLarge('reads', LIMIT));
    await assert.rejects(s.commit(t.txnId), rejectsTooLarge('reads', LIMIT));
    assert.equal((await s.get(b('w'))).found, false);
  });
});

describe('raftstore: the Peer refuses any command above the entry limit', function () {
  this.timeout(20_000);
  it('a compare-and-set put (value + expected value) above the limit is refused; the group keeps serving', async () => {
    const maxMessageBytes = 48 * 1024;
    const limit = raftSizeLimits(maxMessageBytes).maxCommandBytes;
    const node = await openSingleVoter({ maxMessageBytes });
    try {
      const kv = node.kvStore;
      await kv.put(b('k'), Buffer.alloc(20_000, 1));
      await assert.rejects(kv.put(b('k'), Buffer.alloc(20_000, 2), { expectedValue: Buffer.alloc(20_000, 1) }), rejectsTooLarge('command', limit));
      assert.equal((await kv.get(b('k'))).value?.[0], 1);
      assert.equal((await kv.put(b('k'), Buffer.alloc(10, 3), { expectedValue: Buffer.alloc(20_000, 1) })).succeeded, true);
    } finally {
      await node.close();
    }
  });
});
