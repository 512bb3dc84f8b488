// Original file: proto/raft.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { RaftFrame as _kvs_v1_RaftFrame, RaftFrame__Output as _kvs_v1_RaftFrame__Output } from '../../kvs/v1/RaftFrame.js';
import type { SnapshotChunk as _kvs_v1_SnapshotChunk, SnapshotChunk__Output as _kvs_v1_SnapshotChunk__Output } from '../../kvs/v1/SnapshotChunk.js';
import type { SnapshotDone as _kvs_v1_SnapshotDone, SnapshotDone__Output as _kvs_v1_SnapshotDone__Output } from '../../kvs/v1/SnapshotDone.js';
import type { TxnCallRequest as _kvs_v1_TxnCallRequest, TxnCallRequest__Output as _kvs_v1_TxnCallRequest__Output } from '../../kvs/v1/TxnCallRequest.js';
import type { TxnCallResponse as _kvs_v1_TxnCallResponse, TxnCallResponse__Output as _kvs_v1_TxnCallResponse__Output } from '../../kvs/v1/TxnCallResponse.js';

export interface RaftClient extends grpc.Client {
  Snapshot(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SnapshotDone__Output>): grpc.ClientWritableStream<_kvs_v1_SnapshotChunk>;
  Snapshot(metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_SnapshotDone__Output>): grpc.ClientWritableStream<_kvs_v1_SnapshotChunk>;
  Snapshot(options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SnapshotDone__Output>): grpc.ClientWritableStream<_kvs_v1_SnapshotChunk>;
  Snapshot(callback: grpc.requestCallback<_kvs_v1_SnapshotDone__Output>): grpc.ClientWritableStream<_kvs_v1_SnapshotChunk>;
  snapshot(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SnapshotDone__Output>): grpc.ClientWritableStream<_kvs_v1_SnapshotChunk>;
  snapshot(metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_SnapshotDone__Output>): grpc.ClientWritableStream<_kvs_v1_SnapshotChunk>;
  snapshot(options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SnapshotDone__Output>): grpc.ClientWritableStream<_kvs_v1_SnapshotChunk>;
  snapshot(callback: grpc.requestCallback<_kvs_v1_SnapshotDone__Output>): grpc.ClientWritableStream<_kvs_v1_SnapshotChunk>;
  
  /**
   * One long-lived bidi stream per ordered peer pair (sender → receiver). The receiver sends nothing
   * back today (Raft retransmits on its own); the return direction is reserved for flow control.
   */
  Stream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_kvs_v1_RaftFrame, _kvs_v1_RaftFrame__Output>;
  Stream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_kvs_v1_RaftFrame, _kvs_v1_RaftFrame__Output>;
  /**
   * One long-lived bidi stream per ordered peer pair (sender → receiver). The receiver sends nothing
   * back today (Raft retransmits on its own); the return direction is reserved for flow control.
   */
  stream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_kvs_v1_RaftFrame, _kvs_v1_RaftFrame__Output>;
  stream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_kvs_v1_RaftFrame, _kvs_v1_RaftFrame__Output>;
  
  TxnCall(argument: _kvs_v1_TxnCallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TxnCallResponse__Output>): grpc.ClientUnaryCall;
  TxnCall(argument: _kvs_v1_TxnCallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_TxnCallResponse__Output>): grpc.ClientUnaryCall;
  TxnCall(argument: _kvs_v1_TxnCallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TxnCallResponse__Output>): grpc.ClientUnaryCall;
  TxnCall(argument: _kvs_v1_TxnCallRequest, callback: grpc.requestCallback<_kvs_v1_TxnCallResponse__Output>): grpc.ClientUnaryCall;
  txnCall(argument: _kvs_v1_TxnCallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TxnCallResponse__Output>): grpc.ClientUnaryCall;
  txnCall(argument: _kvs_v1_TxnCallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_TxnCallResponse__Output>): grpc.ClientUnaryCall;
  txnCall(argument: _kvs_v1_TxnCallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TxnCallResponse__Output>): grpc.ClientUnaryCall;
  txnCall(argument: _kvs_v1_TxnCallRequest, callback: grpc.requestCallback<_kvs_v1_TxnCallResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface RaftHandlers extends grpc.UntypedServiceImplementation {
  Snapshot: grpc.handleClientStreamingCall<_kvs_v1_SnapshotChunk__Output, _kvs_v1_SnapshotDone>;
  
  /**
   * One long-lived bidi stream per ordered peer pair (sender → receiver). The receiver sends nothing
   * back today (Raft retransmits on its own); the return direction is reserved for flow control.
   */
  Stream: grpc.handleBidiStreamingCall<_kvs_v1_RaftFrame__Output, _kvs_v1_RaftFrame>;
  
  TxnCall: grpc.handleUnaryCall<_kvs_v1_TxnCallRequest__Output, _kvs_v1_TxnCallResponse>;
  
}

export interface RaftDefinition extends grpc.ServiceDefinition {
  Snapshot: MethodDefinition<_kvs_v1_SnapshotChunk, _kvs_v1_SnapshotDone, _kvs_v1_SnapshotChunk__Output, _kvs_v1_SnapshotDone__Output>
  Stream: MethodDefinition<_kvs_v1_RaftFrame, _kvs_v1_RaftFrame, _kvs_v1_RaftFrame__Output, _kvs_v1_RaftFrame__Output>
  TxnCall: MethodDefinition<_kvs_v1_TxnCallRequest, _kvs_v1_TxnCallResponse, _kvs_v1_TxnCallRequest__Output, _kvs_v1_TxnCallResponse__Output>
}
