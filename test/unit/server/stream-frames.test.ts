// The hand-written BatchStream envelope codec (common/stream-frames.ts) against the proto definition:
// frames it writes decode with the proto-loader serializers of kvs.v1.Kv/BatchStream and vice versa;
// malformed input yields typed errors (a sub-request keeps its request_id when it can be read).
import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { loadKvProto } from '../../../node/src/common/proto.js';
import {
  FrameDecodeError,
  STREAM_METHOD_FIELDS,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeErrorItem,
  encodeMaxFrameField,
  encodeRequestItem,
  encodeResponseItem,
  type StreamMethod,
} from '../../../node/src/common/stream-frames.js';
import type { WireError } from '../../../node/src/common/wire-errors.js';

const svc = loadKvProto().kvs.v1.Kv.service;
const bs = svc.BatchStream!;
const reqBody = (m: StreamMethod, v: unknown): Buffer => (svc[m]!.requestSerialize as (x: unknown) => Buffer)(v);
const resBody = (m: StreamMethod, v: unknown): Buffer => (svc[m]!.responseSerialize as (x: unknown) => Buffer)(v);

describe('BatchStream frame codec', () => {
  it('request frames decode with the proto definition (every method, ids up to 2^53-1, timeouts)', () => {
    const items = [
      encodeRequestItem(1, 5000, 'Get', reqBody('Get', { key: Buffer.from('k') })),
      encodeRequestItem(Number.MAX_SAFE_INTEGER, 0, 'Put', reqBody('Put', { key: Buffer.from('k'), value: Buffer.from('v'), header: { clientId: 'c', seq: 7, firstUnacked: 3 } })),
      encodeRequestItem(300, 4294967295, 'Batch', reqBody('Batch', { mutations: [{ op: 'DELETE', key: Buffer.from('x') }] })),
      encodeRequestItem(301, 1, 'Status', reqBody('Status', {})),
    ];
    const decoded = bs.requestDeserialize(Buffer.concat(items)) as unknown as { requests: Array<Record<string, unknown>> };
    assert.equal(decoded.requests.length, 4);
    assert.equal(decoded.requests[0]!.requestId, 1);
    assert.equal(decoded.requests[0]!.timeoutMs, 5000);
    assert.equal(decoded.requests[0]!.request, 'get');
    assert.deepEqual((decoded.requests[0]!.get as { key: Buffer }).key, Buffer.from('k'));
    assert.equal(decoded.requests[1]!.requestId, Number.MAX_SAFE_INTEGER);
    assert.equal((decoded.requests[1]!.put as { header: { seq: number } }).header.seq, 7);
    assert.equal(decoded.requests[2]!.timeoutMs, 4294967295);
    assert.equal((decoded.requests[2]!.batch as { mutations: Array<{ op: string }> }).mutations[0]!.op, 'DELETE');
    assert.equal(decoded.requests[3]!.request, 'status');
  });

  it('frames written by the proto definition decode (oneof field numbers match)', () => {
    for (const [m, field] of Object.entries(STREAM_METHOD_FIELDS) as Array<[StreamMethod, number]>) {
      const oneof = m.charAt(0).toLowerCase() + m.slice(1);
      const frame = (bs.requestSerialize as (x: unknown) => Buffer)({ requests: [{ requestId: field, timeoutMs: 9, [oneof]: {} }] });
      const [sub] = decodeRequestFrame(frame);
      assert.equal(sub!.method, m, `field ${field}`);
      assert.equal(sub!.requestId, field);
      assert.equal(sub!.timeoutMs, 9);
    }
    const res = (bs.responseSerialize as (x: unknown) => Buffer)({
      maxRequestFrameBytes: 12345,
      responses: [
        { requestId: 4, get: { found: true, value: Buffer.from('v'), version: 9, readTs: 10 } },
        { requestId: 5, error: { code: GrpcStatus.ABORTED, message: 'conflict', errorCode: 'TXN_CONFLICT', conflictKey: Buffer.from([0, 255]), conflictTs: 77 } },
      ],
    });
    const d = decodeResponseFrame(res);
    assert.equal(d.maxRequestFrameBytes, 12345);
    assert.equal(d.responses[0]!.method, 'Get');
    assert.deepEqual(svc.Get!.responseDeserialize(d.responses[0]!.body!), { found: true, value: Buffer.from('v'), version: 9, readTs: 10 });
    assert.deepEqual(d.responses[1]!.error, { code: GrpcStatus.ABORTED, message: 'conflict', errorCode: 'TXN_CONFLICT', conflictKey: Buffer.from([0, 255]), conflictTs: 77 });
  });

  it('response frames (results, errors with every detail, the max-frame field) round-trip', () => {
    const err: WireError = {
      code: GrpcStatus.UNAVAILABLE,
      message: 'not the leader ✓',
      errorCode: 'NOT_LEADER',
      field: 'key',
      conflictKey: Buffer.from('ck'),
      conflictTs: 2 ** 52,
      txnId: 't-1',
      safePoint: 5,
      leader: '127.0.0.3:7379',
      leaderId: 3,
    };
    const frame = Buffer.concat([
      encodeMaxFrameField(8 * 1024 * 1024),
      encodeResponseItem(10, 'Put', resBody('Put', { version: 3, succeeded: true })),
      encodeErrorItem(11, err),
      encodeResponseItem(12, 'Rollback', resBody('Rollback', {})),
    ]);
    const viaProto = bs.responseDeserialize(frame) as unknown as { maxRequestFrameBytes: number; responses: Array<Record<string, unknown>> };
    assert.equal(viaProto.maxRequestFrameBytes, 8 * 1024 * 1024);
    assert.equal(viaProto.responses[1]!.response, 'error');
    assert.equal((viaProto.responses[1]!.error as { leaderId: number }).leaderId, 3);
    const d = decodeResponseFrame(frame);
    assert.equal(d.responses.length, 3);
    assert.equal(d.responses[0]!.requestId, 10);
    assert.equal((svc.Put!.responseDeserialize(d.responses[0]!.body!) as { version: number }).version, 3);
    assert.deepEqual(d.responses[1]!.error, err);
    assert.equal(d.responses[2]!.method, 'Rollback');
    assert.equal(d.responses[2]!.body!.length, 0);
  });

  it('unknown frame fields are skipped (forward compatible)', () => {
    const unknown = Buffer.from([(7 << 3) | 0, 0x96, 0x01, (8 << 3) | 2, 2, 0xaa, 0xbb, (9 << 3) | 5, 1, 2, 3, 4, (10 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8]);
    const subs = decodeRequestFrame(Buffer.concat([unknown, encodeRequestItem(1, 0, 'Get', reqBody('Get', { key: Buffer.from('k') })), unknown]));
    assert.equal(subs.length, 1);
    assert.equal(subs[0]!.method, 'Get');
  });

  it('a broken sub-request is reported with its request_id; the rest of the frame is intact', () => {
    const good = encodeRequestItem(1, 0, 'Get', reqBody('Get', { key: Buffer.from('k') }));
    // request_id 42, then field 11 (put) claiming 100 bytes that are not there.
    const brokenSub = Buffer.from([0x08, 42, (11 << 3) | 2, 100, 1, 2]);
    const noMethod = Buffer.from([0x08, 43, 0x10, 5]);
    const unknownMethod = Buffer.from([0x08, 44, 0xca, 0x01, 0]); // field 25 (unknown method), empty
    const item = (b: Buffer) => Buffer.concat([Buffer.from([0x0a, b.length]), b]);
    const subs = decodeRequestFrame(Buffer.concat([good, item(brokenSub), item(noMethod), item(unknownMethod)]));
    assert.equal(subs.length, 4);
    assert.equal(subs[0]!.error, undefined);
    assert.equal(subs[1]!.requestId, 42);
    assert.match(subs[1]!.error!, /malformed sub-request \(length-delimited field runs past the end\)/);
    assert.equal(subs[2]!.requestId, 43);
    assert.match(subs[2]!.error!, /without a request/);
    assert.equal(subs[3]!.requestId, 44);
    assert.match(subs[3]!.error!, /without a request/);
  });

  it('an unparseable frame throws FrameDecodeError (truncated item, bad varint, groups)', () => {
    const samples = [
      Buffer.from([0x0a]),
      Buffer.from([0x0a, 0x05, 0x08]),
      Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      Buffer.from([0x0b]),
      Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
    ];
    for (const s of samples) assert.throws(() => decodeRequestFrame(s), FrameDecodeError, s.toString('hex'));
    assert.deepEqual(decodeRequestFrame(Buffer.alloc(0)), []);
    assert.throws(() => decodeResponseFrame(Buffer.from([0x0a, 0x02, 0x08, 0x01])), /neither a response nor an error/);
  });
});
