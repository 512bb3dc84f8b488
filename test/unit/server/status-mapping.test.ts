// Round trip: typed store error → gRPC status + trailers (server) → typed client error (client).
import assert from 'node:assert/strict';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import * as client from '../../../node/src/client/errors.js';
import {
  InvalidArgumentError,
  NotLeaderError,
  OperationTimeoutError,
  OverloadedError,
  PreconditionFailedError,
  SessionExpiredError,
  SnapshotTooOldError,
  StorageError,
  StoreClosedError,
  TxnConflictError,
  TxnNotFoundError,
  TxnReadOnlyError,
  UnauthenticatedError,
  PermissionDeniedError,
} from '../../../node/src/kv/errors.js';
import { silentLogger } from '../../../node/src/common/logger.js';
import { serviceErrorOf, toGrpcStatus, toServiceError, toWireError } from '../../../node/src/server/status-mapping.js';
import { decodeResponseFrame, encodeErrorItem } from '../../../node/src/common/stream-frames.js';
import { FieldError } from '../../../node/src/server/validate.js';

function roundTrip(err: unknown): { status: ReturnType<typeof toGrpcStatus>; clientErr: client.KvError } {
  const status = toGrpcStatus(err, silentLogger());
  const se = Object.assign(new Error(status.details), { code: status.code, details: status.details, metadata: status.metadata }) as ServiceError;
  return { status, clientErr: client.fromGrpcError(se) };
}

describe('server/status-mapping ↔ client/errors', () => {
  it('INVALID_ARGUMENT with the field', () => {
    const { status, clientErr } = roundTrip(new FieldError('key', 'must not be empty'));
    assert.equal(status.code, GrpcStatus.INVALID_ARGUMENT);
    assert.ok(clientErr instanceof client.KvInvalidArgumentError);
    assert.equal(clientErr.field, 'key');
    assert.equal(clientErr.message, 'key: must not be empty');
    assert.equal(clientErr.retryable, false);
    const plain = roundTrip(new InvalidArgumentError('bad')).clientErr;
    assert.ok(plain instanceof client.KvInvalidArgumentError);
  });

  it('TXN_CONFLICT → ABORTED with the key (binary) and ts', () => {
    const key = Buffer.from([0, 0xff, 0x10, 0x41]);
    const { status, clientErr } = roundTrip(new TxnConflictError(key, 1234));
    assert.equal(status.code, GrpcStatus.ABORTED);
    assert.equal(status.metadata.get('kvs-error')[0], 'TXN_CONFLICT');
    assert.ok(clientErr instanceof client.KvConflictError);
    assert.deepEqual(clientErr.key, key);
    assert.equal(clientErr.conflictTs, 1234);
    assert.equal(clientErr.retryable, true);
  });

  it('TXN_NOT_FOUND → NOT_FOUND with the txn id', () => {
    const { status, clientErr } = roundTrip(new TxnNotFoundError('abc-1'));
    assert.equal(status.code, GrpcStatus.NOT_FOUND);
    assert.ok(clientErr instanceof client.KvTxnNotFoundError);
    assert.equal(clientErr.txnId, 'abc-1');
  });

  it('SNAPSHOT_TOO_OLD → OUT_OF_RANGE with the safe point', () => {
    const { status, clientErr } = roundTrip(new SnapshotTooOldError(5, 10));
    assert.equal(status.code, GrpcStatus.OUT_OF_RANGE);
    assert.ok(clientErr instanceof client.KvSnapshotTooOldError);
    assert.equal(clientErr.safePoint, 10);
  });

  it('TXN_READ_ONLY and SESSION_EXPIRED → FAILED_PRECONDITION, distinguished by kvs-error', () => {
    const ro = roundTrip(new TxnReadOnlyError('read-only'));
    assert.equal(ro.status.code, GrpcStatus.FAILED_PRECONDITION);
    assert.ok(ro.clientErr instanceof client.KvTxnReadOnlyError);
    const se = roundTrip(new SessionExpiredError('gone'));
    assert.equal(se.status.code, GrpcStatus.FAILED_PRECONDITION);
    assert.ok(se.clientErr instanceof client.KvSessionExpiredError);
  });

  it('STORE_CLOSED / STORAGE_ERROR → UNAVAILABLE (retryable); storage details stay server-side', () => {
    const closed = roundTrip(new StoreClosedError());
    assert.equal(closed.status.code, GrpcStatus.UNAVAILABLE);
    assert.ok(closed.clientErr instanceof client.KvUnavailableError);
    assert.equal((closed.clientErr as client.KvUnavailableError).serverCode, 'STORE_CLOSED');
    const storage = roundTrip(new StorageError('EIO at /secret/path/000123.ldb'));
    assert.equal(storage.status.code, GrpcStatus.UNAVAILABLE);
    assert.ok(!storage.status.details.includes('/secret'));
    assert.ok(storage.clientErr.retryable);
  });

  it('unknown errors → INTERNAL without leaking internals', () => {
    const { status, clientErr } = roundTrip(new TypeError('cannot read properties of undefined (reading "x") at /srv/kvs/secret.js'));
    assert.equal(status.code, GrpcStatus.INTERNAL);
    assert.match(status.details, /^internal error \(id [0-9a-f]+\)$/);
    assert.ok(clientErr instanceof client.KvInternalError);
    assert.ok(!clientErr.message.includes('secret'));
    assert.equal(roundTrip('a string').status.code, GrpcStatus.INTERNAL);
  });

  it('duck-typed errors with a known code map like the classes', () => {
    const e = Object.assign(new Error('conflict'), { code: 'TXN_CONFLICT', key: Buffer.from('k'), conflictTs: 3 });
    assert.equal(toGrpcStatus(e).code, GrpcStatus.ABORTED);
    // Node system errors have string codes that are not ours → INTERNAL.
    assert.equal(toGrpcStatus(Object.assign(new Error('x'), { code: 'ENOENT' })).code, GrpcStatus.INTERNAL);
  });

  it('toServiceError produces a grpc-js error', () => {
    const se = toServiceError(new TxnConflictError(Buffer.from('k'), 1));
    assert.equal(se.code, GrpcStatus.ABORTED);
    assert.equal(se.errorCode, 'TXN_CONFLICT');
  });

  it('statuses without kvs-error (proxies, grpc-js itself) still map', () => {
    const mk = (code: number) => Object.assign(new Error('x'), { code, details: 'x', metadata: new Metadata() }) as ServiceError;
    assert.ok(client.fromGrpcError(mk(GrpcStatus.UNAVAILABLE)) instanceof client.KvUnavailableError);
    assert.ok(client.fromGrpcError(mk(GrpcStatus.DEADLINE_EXCEEDED)) instanceof client.KvDeadlineError);
    assert.ok(client.fromGrpcError(mk(GrpcStatus.RESOURCE_EXHAUSTED)) instanceof client.KvResourceExhaustedError);
    assert.ok(client.fromGrpcError(mk(GrpcStatus.CANCELLED)) instanceof client.KvCancelledError);
    assert.ok(client.fromGrpcError(mk(GrpcStatus.ABORTED)) instanceof client.KvConflictError);
    assert.ok(client.fromGrpcError(mk(GrpcStatus.UNIMPLEMENTED)) instanceof client.KvInternalError);
    const local = client.fromGrpcError(new TypeError('oops'));
    assert.ok(local instanceof client.KvInternalError);
    assert.equal(local.retryable, false);
  });

  it('a BatchStream sub-response error carries exactly what the unary status carries (every typed error)', () => {
    const errors: unknown[] = [
      new FieldError('mutations[2].value', 'too big'),
      new TxnConflictError(Buffer.from([0, 0xff, 0x41]), 99),
      new TxnNotFoundError('t-9'),
      new TxnReadOnlyError('read-only'),
      new SnapshotTooOldError(5, 10),
      new SessionExpiredError('gone'),
      new StoreClosedError(),
      new StorageError('EIO /secret'),
      new NotLeaderError(3, '127.0.0.3:7379'),
      new NotLeaderError(0, undefined),
      new OverloadedError('too many'),
      new PreconditionFailedError('no'),
      new OperationTimeoutError('slow'),
      new UnauthenticatedError('no certificate'),
      new PermissionDeniedError('not an admin'),
      new TypeError('boom'),
    ];
    for (const err of errors) {
      const w = toWireError(err, silentLogger());
      const unary = client.fromGrpcError(serviceErrorOf(w), 'Put n1');
      const [sub] = decodeResponseFrame(encodeErrorItem(7, w)).responses;
      assert.equal(sub!.requestId, 7);
      const streamed = client.fromWireError(sub!.error!, 'Put n1');
      assert.equal(streamed.constructor, unary.constructor, String(err));
      assert.equal(streamed.message, unary.message);
      assert.equal(streamed.grpcCode, unary.grpcCode);
      assert.equal(streamed.code, unary.code);
      assert.equal(streamed.retryable, unary.retryable);
      for (const k of ['field', 'key', 'conflictTs', 'txnId', 'safePoint', 'leaderAddress', 'leaderId', 'serverCode'] as const) {
        assert.deepEqual((streamed as unknown as Record<string, unknown>)[k], (unary as unknown as Record<string, unknown>)[k], `${String(err)}: ${k}`);
      }
    }
  });

  it('OVERLOADED → RESOURCE_EXHAUSTED, retryable (never ran)', () => {
    const { status, clientErr } = roundTrip(new OverloadedError('more than 4096 in flight'));
    assert.equal(status.code, GrpcStatus.RESOURCE_EXHAUSTED);
    assert.ok(clientErr instanceof client.KvOverloadedError);
    assert.ok(clientErr instanceof client.KvResourceExhaustedError);
    assert.equal(clientErr.retryable, true);
  });

  it('UNAUTHENTICATED and PERMISSION_DENIED (TLS authorizer) → typed, not retryable', () => {
    const a = roundTrip(new UnauthenticatedError('TLS client certificate refused: expired'));
    assert.equal(a.status.code, GrpcStatus.UNAUTHENTICATED);
    assert.ok(a.clientErr instanceof client.KvUnauthenticatedError);
    assert.equal(a.clientErr.retryable, false);
    assert.equal(a.clientErr.message, 'TLS client certificate refused: expired');
    const p = roundTrip(new PermissionDeniedError('not an admin'));
    assert.equal(p.status.code, GrpcStatus.PERMISSION_DENIED);
    assert.equal(p.status.metadata.get('kvs-error')[0], 'PERMISSION_DENIED');
    assert.ok(p.clientErr instanceof client.KvPermissionDeniedError);
    assert.equal(p.clientErr.retryable, false);
  });
});
