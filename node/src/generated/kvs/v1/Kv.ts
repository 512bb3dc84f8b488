// Original file: proto/kv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BatchRequest as _kvs_v1_BatchRequest, BatchRequest__Output as _kvs_v1_BatchRequest__Output } from '../../kvs/v1/BatchRequest.js';
import type { BatchResponse as _kvs_v1_BatchResponse, BatchResponse__Output as _kvs_v1_BatchResponse__Output } from '../../kvs/v1/BatchResponse.js';
import type { BatchStreamRequest as _kvs_v1_BatchStreamRequest, BatchStreamRequest__Output as _kvs_v1_BatchStreamRequest__Output } from '../../kvs/v1/BatchStreamRequest.js';
import type { BatchStreamResponse as _kvs_v1_BatchStreamResponse, BatchStreamResponse__Output as _kvs_v1_BatchStreamResponse__Output } from '../../kvs/v1/BatchStreamResponse.js';
import type { BeginRequest as _kvs_v1_BeginRequest, BeginRequest__Output as _kvs_v1_BeginRequest__Output } from '../../kvs/v1/BeginRequest.js';
import type { BeginResponse as _kvs_v1_BeginResponse, BeginResponse__Output as _kvs_v1_BeginResponse__Output } from '../../kvs/v1/BeginResponse.js';
import type { CommitRequest as _kvs_v1_CommitRequest, CommitRequest__Output as _kvs_v1_CommitRequest__Output } from '../../kvs/v1/CommitRequest.js';
import type { CommitResponse as _kvs_v1_CommitResponse, CommitResponse__Output as _kvs_v1_CommitResponse__Output } from '../../kvs/v1/CommitResponse.js';
import type { DeleteRangeRequest as _kvs_v1_DeleteRangeRequest, DeleteRangeRequest__Output as _kvs_v1_DeleteRangeRequest__Output } from '../../kvs/v1/DeleteRangeRequest.js';
import type { DeleteRangeResponse as _kvs_v1_DeleteRangeResponse, DeleteRangeResponse__Output as _kvs_v1_DeleteRangeResponse__Output } from '../../kvs/v1/DeleteRangeResponse.js';
import type { DeleteRequest as _kvs_v1_DeleteRequest, DeleteRequest__Output as _kvs_v1_DeleteRequest__Output } from '../../kvs/v1/DeleteRequest.js';
import type { DeleteResponse as _kvs_v1_DeleteResponse, DeleteResponse__Output as _kvs_v1_DeleteResponse__Output } from '../../kvs/v1/DeleteResponse.js';
import type { GetRequest as _kvs_v1_GetRequest, GetRequest__Output as _kvs_v1_GetRequest__Output } from '../../kvs/v1/GetRequest.js';
import type { GetResponse as _kvs_v1_GetResponse, GetResponse__Output as _kvs_v1_GetResponse__Output } from '../../kvs/v1/GetResponse.js';
import type { PutRequest as _kvs_v1_PutRequest, PutRequest__Output as _kvs_v1_PutRequest__Output } from '../../kvs/v1/PutRequest.js';
import type { PutResponse as _kvs_v1_PutResponse, PutResponse__Output as _kvs_v1_PutResponse__Output } from '../../kvs/v1/PutResponse.js';
import type { RollbackRequest as _kvs_v1_RollbackRequest, RollbackRequest__Output as _kvs_v1_RollbackRequest__Output } from '../../kvs/v1/RollbackRequest.js';
import type { RollbackResponse as _kvs_v1_RollbackResponse, RollbackResponse__Output as _kvs_v1_RollbackResponse__Output } from '../../kvs/v1/RollbackResponse.js';
import type { RoutesRequest as _kvs_v1_RoutesRequest, RoutesRequest__Output as _kvs_v1_RoutesRequest__Output } from '../../kvs/v1/RoutesRequest.js';
import type { RoutesResponse as _kvs_v1_RoutesResponse, RoutesResponse__Output as _kvs_v1_RoutesResponse__Output } from '../../kvs/v1/RoutesResponse.js';
import type { ScanRequest as _kvs_v1_ScanRequest, ScanRequest__Output as _kvs_v1_ScanRequest__Output } from '../../kvs/v1/ScanRequest.js';
import type { ScanResponse as _kvs_v1_ScanResponse, ScanResponse__Output as _kvs_v1_ScanResponse__Output } from '../../kvs/v1/ScanResponse.js';
import type { StatusRequest as _kvs_v1_StatusRequest, StatusRequest__Output as _kvs_v1_StatusRequest__Output } from '../../kvs/v1/StatusRequest.js';
import type { StatusResponse as _kvs_v1_StatusResponse, StatusResponse__Output as _kvs_v1_StatusResponse__Output } from '../../kvs/v1/StatusResponse.js';
import type { TimestampRequest as _kvs_v1_TimestampRequest, TimestampRequest__Output as _kvs_v1_TimestampRequest__Output } from '../../kvs/v1/TimestampRequest.js';
import type { TimestampResponse as _kvs_v1_TimestampResponse, TimestampResponse__Output as _kvs_v1_TimestampResponse__Output } from '../../kvs/v1/TimestampResponse.js';

/**
 * Errors are gRPC statuses. The trailer metadata "kvs-error" holds the typed error code (for example
 * "TXN_CONFLICT"), and "kvs-conflict-key-bin" the conflicting key; retryable errors are ABORTED or UNAVAILABLE.
 */
export interface KvClient extends grpc.Client {
  Batch(argument: _kvs_v1_BatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  Batch(argument: _kvs_v1_BatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  Batch(argument: _kvs_v1_BatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  Batch(argument: _kvs_v1_BatchRequest, callback: grpc.requestCallback<_kvs_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  batch(argument: _kvs_v1_BatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  batch(argument: _kvs_v1_BatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  batch(argument: _kvs_v1_BatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  batch(argument: _kvs_v1_BatchRequest, callback: grpc.requestCallback<_kvs_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Multiplexes the methods above over one stream (see StreamSubRequest). A malformed sub-request gets an
   * INVALID_ARGUMENT sub-response; an unparseable frame ends the stream with INVALID_ARGUMENT.
   */
  BatchStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_kvs_v1_BatchStreamRequest, _kvs_v1_BatchStreamResponse__Output>;
  BatchStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_kvs_v1_BatchStreamRequest, _kvs_v1_BatchStreamResponse__Output>;
  /**
   * Multiplexes the methods above over one stream (see StreamSubRequest). A malformed sub-request gets an
   * INVALID_ARGUMENT sub-response; an unparseable frame ends the stream with INVALID_ARGUMENT.
   */
  batchStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_kvs_v1_BatchStreamRequest, _kvs_v1_BatchStreamResponse__Output>;
  batchStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_kvs_v1_BatchStreamRequest, _kvs_v1_BatchStreamResponse__Output>;
  
  Begin(argument: _kvs_v1_BeginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  Begin(argument: _kvs_v1_BeginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  Begin(argument: _kvs_v1_BeginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  Begin(argument: _kvs_v1_BeginRequest, callback: grpc.requestCallback<_kvs_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  begin(argument: _kvs_v1_BeginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  begin(argument: _kvs_v1_BeginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  begin(argument: _kvs_v1_BeginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  begin(argument: _kvs_v1_BeginRequest, callback: grpc.requestCallback<_kvs_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  
  Commit(argument: _kvs_v1_CommitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _kvs_v1_CommitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _kvs_v1_CommitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _kvs_v1_CommitRequest, callback: grpc.requestCallback<_kvs_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _kvs_v1_CommitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _kvs_v1_CommitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _kvs_v1_CommitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _kvs_v1_CommitRequest, callback: grpc.requestCallback<_kvs_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  
  Delete(argument: _kvs_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _kvs_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _kvs_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _kvs_v1_DeleteRequest, callback: grpc.requestCallback<_kvs_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _kvs_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _kvs_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _kvs_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _kvs_v1_DeleteRequest, callback: grpc.requestCallback<_kvs_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteRange(argument: _kvs_v1_DeleteRangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_DeleteRangeResponse__Output>): grpc.ClientUnaryCall;
  DeleteRange(argument: _kvs_v1_DeleteRangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_DeleteRangeResponse__Output>): grpc.ClientUnaryCall;
  DeleteRange(argument: _kvs_v1_DeleteRangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_DeleteRangeResponse__Output>): grpc.ClientUnaryCall;
  DeleteRange(argument: _kvs_v1_DeleteRangeRequest, callback: grpc.requestCallback<_kvs_v1_DeleteRangeResponse__Output>): grpc.ClientUnaryCall;
  deleteRange(argument: _kvs_v1_DeleteRangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_DeleteRangeResponse__Output>): grpc.ClientUnaryCall;
  deleteRange(argument: _kvs_v1_DeleteRangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_DeleteRangeResponse__Output>): grpc.ClientUnaryCall;
  deleteRange(argument: _kvs_v1_DeleteRangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_DeleteRangeResponse__Output>): grpc.ClientUnaryCall;
  deleteRange(argument: _kvs_v1_DeleteRangeRequest, callback: grpc.requestCallback<_kvs_v1_DeleteRangeResponse__Output>): grpc.ClientUnaryCall;
  
  Get(argument: _kvs_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _kvs_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _kvs_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _kvs_v1_GetRequest, callback: grpc.requestCallback<_kvs_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _kvs_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _kvs_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _kvs_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _kvs_v1_GetRequest, callback: grpc.requestCallback<_kvs_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  
  Put(argument: _kvs_v1_PutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _kvs_v1_PutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _kvs_v1_PutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _kvs_v1_PutRequest, callback: grpc.requestCallback<_kvs_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _kvs_v1_PutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _kvs_v1_PutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _kvs_v1_PutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _kvs_v1_PutRequest, callback: grpc.requestCallback<_kvs_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  
  Rollback(argument: _kvs_v1_RollbackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _kvs_v1_RollbackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _kvs_v1_RollbackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _kvs_v1_RollbackRequest, callback: grpc.requestCallback<_kvs_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _kvs_v1_RollbackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _kvs_v1_RollbackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _kvs_v1_RollbackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _kvs_v1_RollbackRequest, callback: grpc.requestCallback<_kvs_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  
  Routes(argument: _kvs_v1_RoutesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RoutesResponse__Output>): grpc.ClientUnaryCall;
  Routes(argument: _kvs_v1_RoutesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_RoutesResponse__Output>): grpc.ClientUnaryCall;
  Routes(argument: _kvs_v1_RoutesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RoutesResponse__Output>): grpc.ClientUnaryCall;
  Routes(argument: _kvs_v1_RoutesRequest, callback: grpc.requestCallback<_kvs_v1_RoutesResponse__Output>): grpc.ClientUnaryCall;
  routes(argument: _kvs_v1_RoutesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RoutesResponse__Output>): grpc.ClientUnaryCall;
  routes(argument: _kvs_v1_RoutesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_RoutesResponse__Output>): grpc.ClientUnaryCall;
  routes(argument: _kvs_v1_RoutesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RoutesResponse__Output>): grpc.ClientUnaryCall;
  routes(argument: _kvs_v1_RoutesRequest, callback: grpc.requestCallback<_kvs_v1_RoutesResponse__Output>): grpc.ClientUnaryCall;
  
  Scan(argument: _kvs_v1_ScanRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  Scan(argument: _kvs_v1_ScanRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  Scan(argument: _kvs_v1_ScanRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  Scan(argument: _kvs_v1_ScanRequest, callback: grpc.requestCallback<_kvs_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  scan(argument: _kvs_v1_ScanRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  scan(argument: _kvs_v1_ScanRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  scan(argument: _kvs_v1_ScanRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  scan(argument: _kvs_v1_ScanRequest, callback: grpc.requestCallback<_kvs_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _kvs_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _kvs_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _kvs_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _kvs_v1_StatusRequest, callback: grpc.requestCallback<_kvs_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvs_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvs_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvs_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvs_v1_StatusRequest, callback: grpc.requestCallback<_kvs_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  Timestamp(argument: _kvs_v1_TimestampRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TimestampResponse__Output>): grpc.ClientUnaryCall;
  Timestamp(argument: _kvs_v1_TimestampRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_TimestampResponse__Output>): grpc.ClientUnaryCall;
  Timestamp(argument: _kvs_v1_TimestampRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TimestampResponse__Output>): grpc.ClientUnaryCall;
  Timestamp(argument: _kvs_v1_TimestampRequest, callback: grpc.requestCallback<_kvs_v1_TimestampResponse__Output>): grpc.ClientUnaryCall;
  timestamp(argument: _kvs_v1_TimestampRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TimestampResponse__Output>): grpc.ClientUnaryCall;
  timestamp(argument: _kvs_v1_TimestampRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_TimestampResponse__Output>): grpc.ClientUnaryCall;
  timestamp(argument: _kvs_v1_TimestampRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TimestampResponse__Output>): grpc.ClientUnaryCall;
  timestamp(argument: _kvs_v1_TimestampRequest, callback: grpc.requestCallback<_kvs_v1_TimestampResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Errors are gRPC statuses. The trailer metadata "kvs-error" holds the typed error code (for example
 * "TXN_CONFLICT"), and "kvs-conflict-key-bin" the conflicting key; retryable errors are ABORTED or UNAVAILABLE.
 */
export interface KvHandlers extends grpc.UntypedServiceImplementation {
  Batch: grpc.handleUnaryCall<_kvs_v1_BatchRequest__Output, _kvs_v1_BatchResponse>;
  
  /**
   * Multiplexes the methods above over one stream (see StreamSubRequest). A malformed sub-request gets an
   * INVALID_ARGUMENT sub-response; an unparseable frame ends the stream with INVALID_ARGUMENT.
   */
  BatchStream: grpc.handleBidiStreamingCall<_kvs_v1_BatchStreamRequest__Output, _kvs_v1_BatchStreamResponse>;
  
  Begin: grpc.handleUnaryCall<_kvs_v1_BeginRequest__Output, _kvs_v1_BeginResponse>;
  
  Commit: grpc.handleUnaryCall<_kvs_v1_CommitRequest__Output, _kvs_v1_CommitResponse>;
  
  Delete: grpc.handleUnaryCall<_kvs_v1_DeleteRequest__Output, _kvs_v1_DeleteResponse>;
  
  DeleteRange: grpc.handleUnaryCall<_kvs_v1_DeleteRangeRequest__Output, _kvs_v1_DeleteRangeResponse>;
  
  Get: grpc.handleUnaryCall<_kvs_v1_GetRequest__Output, _kvs_v1_GetResponse>;
  
  Put: grpc.handleUnaryCall<_kvs_v1_PutRequest__Output, _kvs_v1_PutResponse>;
  
  Rollback: grpc.handleUnaryCall<_kvs_v1_RollbackRequest__Output, _kvs_v1_RollbackResponse>;
  
  Routes: grpc.handleUnaryCall<_kvs_v1_RoutesRequest__Output, _kvs_v1_RoutesResponse>;
  
  Scan: grpc.handleUnaryCall<_kvs_v1_ScanRequest__Output, _kvs_v1_ScanResponse>;
  
  Status: grpc.handleUnaryCall<_kvs_v1_StatusRequest__Output, _kvs_v1_StatusResponse>;
  
  Timestamp: grpc.handleUnaryCall<_kvs_v1_TimestampRequest__Output, _kvs_v1_TimestampResponse>;
  
}

export interface KvDefinition extends grpc.ServiceDefinition {
  Batch: MethodDefinition<_kvs_v1_BatchRequest, _kvs_v1_BatchResponse, _kvs_v1_BatchRequest__Output, _kvs_v1_BatchResponse__Output>
  BatchStream: MethodDefinition<_kvs_v1_BatchStreamRequest, _kvs_v1_BatchStreamResponse, _kvs_v1_BatchStreamRequest__Output, _kvs_v1_BatchStreamResponse__Output>
  Begin: MethodDefinition<_kvs_v1_BeginRequest, _kvs_v1_BeginResponse, _kvs_v1_BeginRequest__Output, _kvs_v1_BeginResponse__Output>
  Commit: MethodDefinition<_kvs_v1_CommitRequest, _kvs_v1_CommitResponse, _kvs_v1_CommitRequest__Output, _kvs_v1_CommitResponse__Output>
  Delete: MethodDefinition<_kvs_v1_DeleteRequest, _kvs_v1_DeleteResponse, _kvs_v1_DeleteRequest__Output, _kvs_v1_DeleteResponse__Output>
  DeleteRange: MethodDefinition<_kvs_v1_DeleteRangeRequest, _kvs_v1_DeleteRangeResponse, _kvs_v1_DeleteRangeRequest__Output, _kvs_v1_DeleteRangeResponse__Output>
  Get: MethodDefinition<_kvs_v1_GetRequest, _kvs_v1_GetResponse, _kvs_v1_GetRequest__Output, _kvs_v1_GetResponse__Output>
  Put: MethodDefinition<_kvs_v1_PutRequest, _kvs_v1_PutResponse, _kvs_v1_PutRequest__Output, _kvs_v1_PutResponse__Output>
  Rollback: MethodDefinition<_kvs_v1_RollbackRequest, _kvs_v1_RollbackResponse, _kvs_v1_RollbackRequest__Output, _kvs_v1_RollbackResponse__Output>
  Routes: MethodDefinition<_kvs_v1_RoutesRequest, _kvs_v1_RoutesResponse, _kvs_v1_RoutesRequest__Output, _kvs_v1_RoutesResponse__Output>
  Scan: MethodDefinition<_kvs_v1_ScanRequest, _kvs_v1_ScanResponse, _kvs_v1_ScanRequest__Output, _kvs_v1_ScanResponse__Output>
  Status: MethodDefinition<_kvs_v1_StatusRequest, _kvs_v1_StatusResponse, _kvs_v1_StatusRequest__Output, _kvs_v1_StatusResponse__Output>
  Timestamp: MethodDefinition<_kvs_v1_TimestampRequest, _kvs_v1_TimestampResponse, _kvs_v1_TimestampRequest__Output, _kvs_v1_TimestampResponse__Output>
}
