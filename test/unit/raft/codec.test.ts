// Round-trip tests of the binary codec (transport + disk formats).
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  CodecError,
  type ConfState,
  type Entry,
  type Message,
  MessageType,
  decodeConfChange,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  decodeSnapshotMetadata,
  encodeConfChange,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  encodeSnapshotMetadata,
  msg,
} from '../../../node/src/raft/index.js';

const u53 = fc.oneof(fc.nat(1000), fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const bytesArb = fc.uint8Array({ maxLength: 64 });
const entryArb: fc.Arbitrary<Entry> = fc.record({ term: u53, index: u53, type: fc.constantFrom(0, 1), data: bytesArb });
const idsArb = fc.array(fc.nat(1 << 20), { maxLength: 6 });
const confStateArb: fc.Arbitrary<ConfState> = fc.record({
  voters: idsArb,
  learners: idsArb,
  votersOutgoing: idsArb,
  learnersNext: idsArb,
  autoLeave: fc.boolean(),
});
const snapshotArb = fc.record({ metadata: fc.record({ index: u53, term: u53, confState: confStateArb }), data: bytesArb });
const messageArb: fc.Arbitrary<Message> = fc
  .record({
    groupId: u53,
    type: fc.constantFrom(...Object.values(MessageType).filter((v): v is MessageType => typeof v === 'number')),
    from: u53,
    to: u53,
    term: u53,
    logTerm: u53,
    index: u53,
    entries: fc.array(entryArb, { maxLength: 5 }),
    commit: u53,
    reject: fc.boolean(),
    rejectHint: u53,
    context: bytesArb,
    snapshot: fc.option(snapshotArb, { nil: undefined }),
  })
  .map((m) => {
    if (m.snapshot === undefined) delete (m as Partial<Message>).snapshot;
    return m as Message;
  });

// fast-check may build null-prototype records; compare against ordinary objects.
const plain = <T>(x: T): T => structuredClone(x);

describe('raft codec', function () {
  this.timeout(30_000); // property tests; generous for a loaded CI machine
  it('round-trips messages (property)', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        assert.deepEqual(plain(decodeMessage(encodeMessage(m))), plain(m));
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips entries, hard states, snapshots and conf states (property)', () => {
    fc.assert(
      fc.property(entryArb, (e) => assert.deepEqual(plain(decodeEntry(encodeEntry(e))), plain(e))),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.record({ term: u53, vote: u53, commit: u53 }), (h) => assert.deepEqual(plain(decodeHardState(encodeHardState(h))), plain(h))),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(snapshotArb, (s) => {
        assert.deepEqual(plain(decodeSnapshot(encodeSnapshot(s))), plain(s));
        assert.deepEqual(plain(decodeSnapshotMetadata(encodeSnapshotMetadata(s.metadata))), plain(s.metadata));
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(confStateArb, (cs) => assert.deepEqual(plain(decodeConfState(encodeConfState(cs))), plain(cs))),
      { numRuns: 200 },
    );
  });

  it('round-trips conf changes; empty data decodes to "leave joint"', () => {
    const cc = { transition: 1, changes: [{ type: 0, nodeId: 7 }, { type: 1, nodeId: 3 }], context: new Uint8Array([1, 2]) };
    assert.deepEqual(plain(decodeConfChange(encodeConfChange(cc))), cc);
    assert.deepEqual(decodeConfChange(new Uint8Array()), { transition: 0, changes: [], context: new Uint8Array() });
  });

  it('is compact: a heartbeat is a handful of bytes', () => {
    const b = encodeMessage(msg({ type: MessageType.Heartbeat, groupId: 3, from: 1, to: 2, term: 5, commit: 100 }));
    assert.ok(b.length <= 20, `heartbeat is ${b.length} bytes`);
  });

  it('rejects truncated input, trailing bytes and unknown versions with CodecError', () => {
    const b = encodeMessage(msg({ type: MessageType.App, from: 1, to: 2, term: 5, entries: [{ term: 5, index: 9, type: 0, data: new Uint8Array(10) }] }));
    for (let cut = 0; cut < b.length; cut++) {
      assert.throws(() => decodeMessage(b.subarray(0, cut)), CodecError);
    }
    const extra = new Uint8Array(b.length + 1);
    extra.set(b);
    assert.throws(() => decodeMessage(extra), CodecError);
    const v2 = b.slice();
    v2[0] = 2;
    assert.throws(() => decodeMessage(v2), (e: unknown) => e instanceof CodecError && e.code === 'RAFT_CODEC');
    assert.throws(() => encodeHardState({ term: -1, vote: 0, commit: 0 }), CodecError);
  });

  it('sizes a MsgApp up front and keeps no oversized buffer alive behind an encoding', () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({ term: 7, index: 1000 + i, type: 0, data: new Uint8Array(300 + i).fill(i) }));
    const m = msg({ type: MessageType.App, groupId: 9, from: 1, to: 2, term: 7, logTerm: 7, index: 999, commit: 990, entries });
    // Past Node's Buffer pool (4 KiB) an encoding has a backing store of its own: at most twice its size.
    const big = encodeMessage(m);
    assert.ok(big.byteLength > 8192 && big.byteLength * 2 >= big.buffer.byteLength, `${big.byteLength} bytes over a ${big.buffer.byteLength}-byte buffer`);
    assert.deepEqual(plain(decodeMessage(encodeMessage(m))).entries, entries);
    assert.deepEqual(plain(decodeEntry(encodeEntry(entries[3]!))), entries[3]);
  });
});
