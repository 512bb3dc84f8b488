import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../node/src/kv/errors.js';
import {
  DEFAULT_LIMITS,
  effectiveScanLimit,
  requireTxnId,
  resolveLimits,
  sessionOf,
  validateIdleTimeout,
  validateKey,
  validateMutations,
  validateRange,
  validateTimestamp,
  validateTxnId,
  validateValue,
  type Limits,
} from '../../../node/src/server/validate.js';

const L: Limits = { ...DEFAULT_LIMITS };
const b = (s: string) => Buffer.from(s);

function throwsField(fn: () => unknown, field: string, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.equal((err as unknown as { field: string }).field, field);
    assert.match(err.message, re);
    assert.ok(err.message.startsWith(`${field}: `), err.message);
    return true;
  });
}

describe('server/validate', () => {
  it('keys: empty rejected, limit inclusive, message names field and limit', () => {
    throwsField(() => validateKey(Buffer.alloc(0), L), 'key', /must not be empty/);
    throwsField(() => validateKey(undefined, L), 'key', /must not be empty/);
    assert.equal(validateKey(Buffer.alloc(8192), L).length, 8192);
    throwsField(() => validateKey(Buffer.alloc(8193), L), 'key', /8193 bytes exceeds the limit of 8192 bytes/);
  });

  it('values: empty allowed, 1 MiB limit', () => {
    assert.equal(validateValue(undefined, L).length, 0);
    assert.equal(validateValue(Buffer.alloc(1024 * 1024), L).length, 1024 * 1024);
    throwsField(() => validateValue(Buffer.alloc(1024 * 1024 + 1), L), 'value', /1048577 bytes exceeds the limit of 1048576 bytes/);
  });

  it('ranges: start > end, prefix with start/end, unbounded delete-range', () => {
    throwsField(() => validateRange({ start: b('b'), end: b('a') }, L), 'start', /start > end/);
    assert.deepEqual(validateRange({ start: b('a'), end: b('a') }, L), { start: b('a'), end: b('a') });
    throwsField(() => validateRange({ prefix: b('p'), start: b('a') }, L), 'prefix', /cannot be combined/);
    assert.deepEqual(validateRange({ start: Buffer.alloc(0), end: Buffer.alloc(0), prefix: Buffer.alloc(0) }, L), {});
    throwsField(() => validateRange({}, L, { requireBound: true }), 'start', /one of start, end or prefix/);
    throwsField(() => validateRange({ end: Buffer.alloc(9000) }, L), 'end', /exceeds the limit/);
  });

  it('scan limits: 0 → default, capped at max', () => {
    assert.equal(effectiveScanLimit(0, L), 1000);
    assert.equal(effectiveScanLimit(5, L), 5);
    assert.equal(effectiveScanLimit(1_000_000, L), L.maxScanLimit);
  });

  it('batches: empty, too many, per-mutation fields, unknown op', () => {
    throwsField(() => validateMutations([], L), 'mutations', /at least 1/);
    const small = { ...L, maxBatchMutations: 2 };
    const m = { op: 'PUT', key: b('k'), value: b('v') };
    throwsField(() => validateMutations([m, m, m], small), 'mutations', /3 mutations exceeds the limit of 2/);
    throwsField(() => validateMutations([m, { op: 'PUT', key: Buffer.alloc(0), value: b('') }], L), 'mutations[1].key', /must not be empty/);
    throwsField(() => validateMutations([{ op: 'PUT', key: b('k'), value: Buffer.alloc(L.maxValueBytes + 1) }], L), 'mutations[0].value', /exceeds/);
    throwsField(() => validateMutations([{ op: 'DELETE', key: b('k'), value: b('x') }], L), 'mutations[0].value', /must be empty for a DELETE/);
    throwsField(() => validateMutations([{ op: 7, key: b('k') }], L), 'mutations[0].op', /unknown operation/);
    assert.deepEqual(validateMutations([m, { op: 'DELETE', key: b('d') }], L), [
      { op: 'put', key: b('k'), value: b('v') },
      { op: 'delete', key: b('d') },
    ]);
  });

  it('txn ids', () => {
    assert.equal(validateTxnId(''), undefined);
    assert.equal(validateTxnId('0b6f3c1e-6a59-4a2d-9d3e-3f1a2b4c5d6e'), '0b6f3c1e-6a59-4a2d-9d3e-3f1a2b4c5d6e');
    throwsField(() => validateTxnId('bad id!'), 'txn_id', /malformed transaction id/);
    throwsField(() => validateTxnId('x'.repeat(129)), 'txn_id', /malformed/);
    throwsField(() => requireTxnId(''), 'txn_id', /must not be empty/);
  });

  it('session headers', () => {
    assert.equal(sessionOf(null, L), undefined);
    assert.equal(sessionOf({ clientId: 'c', seq: 0, firstUnacked: 0 }, L), undefined);
    assert.equal(sessionOf({ clientId: '', seq: 0, firstUnacked: 0 }, L), undefined);
    assert.deepEqual(sessionOf({ clientId: 'c', seq: 5, firstUnacked: 3 }, L), { clientId: 'c', seq: 5, firstUnacked: 3 });
    throwsField(() => sessionOf({ clientId: '', seq: 5, firstUnacked: 0 }, L), 'header.client_id', /must be set when header.seq is set/);
    throwsField(() => sessionOf({ clientId: 'c', seq: 3, firstUnacked: 5 }, L), 'header.first_unacked', /\(5\) must be <= header.seq \(3\)/);
    throwsField(() => sessionOf({ clientId: 'x'.repeat(200), seq: 1, firstUnacked: 1 }, L), 'header.client_id', /exceeds the limit of 128/);
    throwsField(() => sessionOf({ clientId: 'a b', seq: 1, firstUnacked: 1 }, L), 'header.client_id', /printable ASCII/);
  });

  it('timestamps and idle timeouts', () => {
    assert.equal(validateTimestamp(0, 'snapshot_ts'), undefined);
    assert.equal(validateTimestamp(42, 'snapshot_ts'), 42);
    throwsField(() => validateTimestamp(2 ** 60, 'snapshot_ts'), 'snapshot_ts', /below 2\^53/);
    assert.equal(validateIdleTimeout(0, L), undefined);
    throwsField(() => validateIdleTimeout(L.maxTxnIdleTimeoutMs + 1, L), 'idle_timeout_ms', /exceeds the limit/);
  });

  it('resolveLimits checks coherence', () => {
    assert.deepEqual(resolveLimits(), { ...DEFAULT_LIMITS });
    assert.equal(resolveLimits({ maxKeyBytes: 100 }).maxKeyBytes, 100);
    assert.throws(() => resolveLimits({ maxKeyBytes: 0 }), /maxKeyBytes must be a positive integer/);
    assert.throws(() => resolveLimits({ defaultScanLimit: 50, maxScanLimit: 10 }), /defaultScanLimit \(50\) must be <= maxScanLimit \(10\)/);
    assert.throws(() => resolveLimits({ maxReceiveMessageBytes: 1024 }), /maxReceiveMessageBytes/);
    // A put of the largest key and value must fit one Raft entry, not just one request.
    assert.throws(() => resolveLimits({ maxReceiveMessageBytes: 1024 * 1024 + 8 * 1024 + 2048 }), /the Raft framing reserve of 16384/);
  });
});
