// fast-check generators of commands for state machine tests.
import fc from 'fast-check';
import type { Mutation, Session } from '../../../node/src/kv/api.js';
import type { Command, CommandResult, KeyRange } from '../../../node/src/kv/commands.js';

/** Deep copy into plain objects (fast-check records may have a null prototype). */
export function plain<T>(x: T): T {
  if (Buffer.isBuffer(x) || x === null || typeof x !== 'object') return x;
  if (Array.isArray(x)) return x.map(plain) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) if (v !== undefined) out[k] = plain(v);
  return out as T;
}

export const KEYS = ['a', 'b', 'c', 'a\0', 'ab', '\xff', 'k1', 'k2'].map((s) => Buffer.from(s, 'latin1'));
export const keyArb = fc.constantFrom(...KEYS);
export const anyBytes = fc.uint8Array({ maxLength: 12 }).map((u) => Buffer.from(u));
export const valueArb = fc.oneof(fc.constantFrom(...['x', 'y', ''].map((s) => Buffer.from(s))), anyBytes);
const tsArb = fc.integer({ min: 0, max: 2 ** 53 - 1 });
const txnIdArb = fc.constantFrom('tx1', 'tx2', 'tx3');

export const sessionArb: fc.Arbitrary<Session> = fc
  .record({ clientId: fc.constantFrom('c1', 'c2', 'c3'), seq: fc.integer({ min: 1, max: 6 }), back: fc.integer({ min: 0, max: 3 }) })
  .map(({ clientId, seq, back }) => ({ clientId, seq, firstUnacked: Math.max(1, seq - back) }));

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key: keyArb, value: valueArb }),
  fc.record({ op: fc.constant('delete' as const), key: keyArb }),
);

const rangeArb: fc.Arbitrary<KeyRange> = fc.record({ start: fc.option(keyArb, { nil: undefined }), end: fc.option(keyArb, { nil: undefined }) }, { requiredKeys: [] });

/** Commands with realistic (mostly increasing) proposed timestamps; `t` is a base offset. */
export function commandArb(opts: { anyTs?: boolean; startTsMax?: number } = {}): fc.Arbitrary<Command> {
  const proposedTs = opts.anyTs ? tsArb : fc.integer({ min: 0, max: 200 });
  const session = fc.option(sessionArb, { nil: undefined, freq: 2 });
  const base = { proposedTs, session };
  return fc.oneof(
    fc.record({ type: fc.constant('put' as const), ...base, key: keyArb, value: valueArb }, { requiredKeys: ['type', 'proposedTs', 'key', 'value'] }),
    fc.record(
      { type: fc.constant('put' as const), ...base, key: keyArb, value: valueArb, expectedValue: valueArb, expectAbsent: fc.constant(true), returnPrev: fc.constant(true) },
      { requiredKeys: ['type', 'proposedTs', 'key', 'value'] },
    ),
    fc.record({ type: fc.constant('delete' as const), ...base, key: keyArb }, { requiredKeys: ['type', 'proposedTs', 'key'] }),
    fc.record({ type: fc.constant('deleteRange' as const), ...base, start: keyArb, end: keyArb }, { requiredKeys: ['type', 'proposedTs'] }),
    fc.record({ type: fc.constant('batch' as const), ...base, mutations: fc.array(mutationArb, { maxLength: 4 }) }, { requiredKeys: ['type', 'proposedTs', 'mutations'] }),
    fc.record(
      {
        type: fc.constant('txnCommit' as const),
        ...base,
        startTs: opts.anyTs ? tsArb : fc.integer({ min: 0, max: opts.startTsMax ?? 40 }),
        readKeys: fc.array(keyArb, { maxLength: 3 }),
        readRanges: fc.array(rangeArb, { maxLength: 2 }),
        writes: fc.array(mutationArb, { maxLength: 3 }),
      },
      { requiredKeys: ['type', 'proposedTs', 'startTs', 'readKeys', 'readRanges', 'writes'] },
    ),
    fc.record({ type: fc.constant('setSafePoint' as const), proposedTs, safePoint: opts.anyTs ? tsArb : fc.integer({ min: 0, max: 30 }) }),
    fc.record({ type: fc.constant('noop' as const), ...base, ceiling: opts.anyTs ? tsArb : fc.integer({ min: 0, max: 60 }) }, { requiredKeys: ['type', 'proposedTs'] }),
    // Cross-range transactions: a few transaction ids so prepares, commits, rollbacks and checks of the
    // same transaction meet in one history (locks, records, TTL expiry, blocked writes).
    fc.record(
      {
        type: fc.constant('txnPrepare' as const),
        proposedTs,
        txnId: txnIdArb,
        startTs: opts.anyTs ? tsArb : fc.integer({ min: 0, max: opts.startTsMax ?? 40 }),
        primary: keyArb,
        ttlTs: fc.integer({ min: 1, max: 100 }),
        readKeys: fc.array(keyArb, { maxLength: 3 }),
        readRanges: fc.array(rangeArb, { maxLength: 1 }),
        writes: fc.array(mutationArb, { maxLength: 3 }),
      },
      { requiredKeys: ['type', 'proposedTs', 'txnId', 'startTs', 'primary', 'ttlTs', 'readKeys', 'readRanges', 'writes'] },
    ),
    fc.record({ type: fc.constant('txnCommitLocks' as const), ...base, txnId: txnIdArb, commitTs: opts.anyTs ? tsArb : fc.integer({ min: 1, max: 250 }), primary: keyArb }, { requiredKeys: ['type', 'proposedTs', 'txnId', 'commitTs'] }),
    // The one-phase commit point (the primary's part never prepared).
    fc.record({
      type: fc.constant('txnCommitLocks' as const),
      ...base,
      txnId: txnIdArb,
      commitTs: opts.anyTs ? tsArb : fc.integer({ min: 1, max: 250 }),
      primary: keyArb,
      onePhase: fc.record({
        startTs: opts.anyTs ? tsArb : fc.integer({ min: 0, max: opts.startTsMax ?? 40 }),
        readKeys: fc.array(keyArb, { maxLength: 3 }),
        readRanges: fc.array(rangeArb, { maxLength: 1 }),
        writes: fc.array(mutationArb, { maxLength: 3 }),
      }),
    }),
    fc.record({ type: fc.constant('txnRollbackLocks' as const), proposedTs, txnId: txnIdArb, primary: keyArb }, { requiredKeys: ['type', 'proposedTs', 'txnId'] }),
    fc.record({ type: fc.constant('txnCheck' as const), proposedTs, txnId: txnIdArb, primary: keyArb, lockExpiresTs: fc.integer({ min: 1, max: 300 }) }, { requiredKeys: ['type', 'proposedTs', 'txnId', 'primary'] }),
  ) as fc.Arbitrary<Command>;
}

export const resultArb: fc.Arbitrary<CommandResult> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), version: tsArb, succeeded: fc.boolean(), prevFound: fc.boolean(), prevValue: anyBytes }, { requiredKeys: ['type', 'version', 'succeeded', 'prevFound'] }),
  fc.record({ type: fc.constant('delete' as const), deleted: fc.boolean(), version: tsArb }),
  fc.record({ type: fc.constant('deleteRange' as const), deleted: fc.nat(), version: tsArb }),
  fc.record({ type: fc.constant('batch' as const), version: tsArb }),
  fc.record({ type: fc.constant('txnCommit' as const), commitTs: tsArb }),
  fc.record({ type: fc.constant('ok' as const), ts: tsArb }),
  fc.record({ type: fc.constant('txnStatus' as const), state: fc.constantFrom('prepared' as const, 'committed' as const, 'aborted' as const, 'alive' as const), ts: tsArb, txnId: fc.string() }),
  fc.record({
    type: fc.constant('error' as const),
    code: fc.constant('KEY_LOCKED' as const),
    message: fc.string(),
    key: anyBytes,
    rangeId: fc.nat(),
    lock: fc.record({ txnId: fc.string(), primary: anyBytes, prepTs: tsArb, ttlTs: tsArb }),
  }),
  fc.record({ type: fc.constant('error' as const), code: fc.constant('TXN_CONFLICT' as const), message: fc.string(), key: anyBytes, conflictTs: tsArb }),
  fc.record({ type: fc.constant('error' as const), code: fc.constant('SNAPSHOT_TOO_OLD' as const), message: fc.string(), snapshotTs: tsArb, safePoint: tsArb }),
  fc.record({ type: fc.constantFrom('error' as const), code: fc.constantFrom('INVALID_ARGUMENT' as const, 'SESSION_EXPIRED' as const, 'STORAGE_ERROR' as const), message: fc.string() }),
) as fc.Arbitrary<CommandResult>;
