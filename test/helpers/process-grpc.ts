// Raw gRPC access to a running kvs-node, without the client library's retries: promisified stubs of
// every kvs.v1.Kv method, error details (status code, kvs-error trailer), and unary calls with arbitrary
// bytes as the request message (fuzzing the server's decoder).
import * as grpc from '@grpc/grpc-js';
import { loadKvProto, KV_SERVICE_NAME, type KvMethod } from '../../node/src/common/proto.js';
import type { KvClient as KvStub } from '../../node/src/generated/kvs/v1/Kv.js';
import type { GetRequest } from '../../node/src/generated/kvs/v1/GetRequest.js';
import type { GetResponse__Output } from '../../node/src/generated/kvs/v1/GetResponse.js';
import type { PutRequest } from '../../node/src/generated/kvs/v1/PutRequest.js';
import type { PutResponse__Output } from '../../node/src/generated/kvs/v1/PutResponse.js';
import type { DeleteRequest } from '../../node/src/generated/kvs/v1/DeleteRequest.js';
import type { DeleteResponse__Output } from '../../node/src/generated/kvs/v1/DeleteResponse.js';
import type { DeleteRangeRequest } from '../../node/src/generated/kvs/v1/DeleteRangeRequest.js';
import type { DeleteRangeResponse__Output } from '../../node/src/generated/kvs/v1/DeleteRangeResponse.js';
import type { ScanRequest } from '../../node/src/generated/kvs/v1/ScanRequest.js';
import type { ScanResponse__Output } from '../../node/src/generated/kvs/v1/ScanResponse.js';
import type { BatchRequest } from '../../node/src/generated/kvs/v1/BatchRequest.js';
import type { BatchResponse__Output } from '../../node/src/generated/kvs/v1/BatchResponse.js';
import type { BeginRequest } from '../../node/src/generated/kvs/v1/BeginRequest.js';
import type { BeginResponse__Output } from '../../node/src/generated/kvs/v1/BeginResponse.js';
import type { CommitRequest } from '../../node/src/generated/kvs/v1/CommitRequest.js';
import type { CommitResponse__Output } from '../../node/src/generated/kvs/v1/CommitResponse.js';
import type { RollbackRequest } from '../../node/src/generated/kvs/v1/RollbackRequest.js';
import type { RollbackResponse__Output } from '../../node/src/generated/kvs/v1/RollbackResponse.js';
import type { StatusResponse__Output } from '../../node/src/generated/kvs/v1/StatusResponse.js';

export interface CallOpts {
  /** Per-call deadline in ms (default 10 s). */
  timeoutMs?: number;
}

/** A failed call, flattened: gRPC status code + name, details, and the kvs-error trailer. */
export interface CallError {
  code: number;
  codeName: string;
  details: string;
  kvsError?: string;
}

export function callError(e: unknown): CallError {
  const se = e as grpc.ServiceError;
  const code = typeof se?.code === 'number' ? se.code : grpc.status.UNKNOWN;
  const kvs = se?.metadata?.get?.('kvs-error')?.[0];
  const err: CallError = {
    code,
    codeName: (grpc.status as unknown as Record<number, string>)[code] ?? String(code),
    details: se?.details ?? String((e as Error)?.message ?? e),
  };
  if (kvs !== undefined) err.kvsError = kvs.toString();
  return err;
}

type Unary<Req, Res> = (req: Req, opts?: CallOpts) => Promise<Res>;

export interface RawKv {
  get: Unary<GetRequest, GetResponse__Output>;
  put: Unary<PutRequest, PutResponse__Output>;
  delete: Unary<DeleteRequest, DeleteResponse__Output>;
  deleteRange: Unary<DeleteRangeRequest, DeleteRangeResponse__Output>;
  scan: Unary<ScanRequest, ScanResponse__Output>;
  batch: Unary<BatchRequest, BatchResponse__Output>;
  begin: Unary<BeginRequest, BeginResponse__Output>;
  commit: Unary<CommitRequest, CommitResponse__Output>;
  rollback: Unary<RollbackRequest, RollbackResponse__Output>;
  status: Unary<Record<string, never>, StatusResponse__Output>;
  /** Sends `bytes` as the serialized request message of `method`; resolves with the raw reply bytes. */
  rawCall(method: KvMethod | string, bytes: Buffer, opts?: CallOpts): Promise<Buffer>;
  readonly stub: KvStub;
  close(): void;
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  // Reconnect fast after a node restart.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

export function rawKv(address: string, channelOptions: grpc.ChannelOptions = {}): RawKv {
  const proto = loadKvProto();
  const stub = new proto.kvs.v1.Kv(address, grpc.credentials.createInsecure(), { ...CHANNEL_OPTIONS, ...channelOptions }) as unknown as KvStub;
  const unary =
    <Req, Res>(name: KvMethod): Unary<Req, Res> =>
    (req, opts = {}) =>
      new Promise<Res>((resolve, reject) => {
        const deadline = new Date(Date.now() + (opts.timeoutMs ?? 10_000));
        const fn = (stub as unknown as Record<string, (r: Req, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void>)[name]!;
        fn.call(stub, req, { deadline }, (err, res) => (err ? reject(err) : resolve(res as Res)));
      });
  const ident = (b: Buffer): Buffer => b;
  return {
    stub,
    get: unary('Get'),
    put: unary('Put'),
    delete: unary('Delete'),
    deleteRange: unary('DeleteRange'),
    scan: unary('Scan'),
    batch: unary('Batch'),
    begin: unary('Begin'),
    commit: unary('Commit'),
    rollback: unary('Rollback'),
    status: unary('Status'),
    rawCall: (method, bytes, opts = {}) =>
      new Promise<Buffer>((resolve, reject) => {
        const path = method.startsWith('/') ? method : `/${KV_SERVICE_NAME}/${method}`;
        const deadline = new Date(Date.now() + (opts.timeoutMs ?? 10_000));
        (stub as grpc.Client).makeUnaryRequest(path, ident, ident, bytes, { deadline }, (err, res) => (err ? reject(err) : resolve(res as Buffer)));
      }),
    close: () => stub.close(),
  };
}

/** Resolves when the channel is READY (or rejects after timeoutMs). */
export function waitForChannel(kv: RawKv, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => kv.stub.waitForReady(Date.now() + timeoutMs, (e) => (e ? reject(e) : resolve())));
}
