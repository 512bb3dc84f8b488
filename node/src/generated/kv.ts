import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { BatchRequest as _kvs_v1_BatchRequest, BatchRequest__Output as _kvs_v1_BatchRequest__Output } from './kvs/v1/BatchRequest.js';
import type { BatchResponse as _kvs_v1_BatchResponse, BatchResponse__Output as _kvs_v1_BatchResponse__Output } from './kvs/v1/BatchResponse.js';
import type { BatchStreamRequest as _kvs_v1_BatchStreamRequest, BatchStreamRequest__Output as _kvs_v1_BatchStreamRequest__Output } from './kvs/v1/BatchStreamRequest.js';
import type { BatchStreamResponse as _kvs_v1_BatchStreamResponse, BatchStreamResponse__Output as _kvs_v1_BatchStreamResponse__Output } from './kvs/v1/BatchStreamResponse.js';
import type { BeginRequest as _kvs_v1_BeginRequest, BeginRequest__Output as _kvs_v1_BeginRequest__Output } from './kvs/v1/BeginRequest.js';
import type { BeginResponse as _kvs_v1_BeginResponse, BeginResponse__Output as _kvs_v1_BeginResponse__Output } from './kvs/v1/BeginResponse.js';
import type { CommitRequest as _kvs_v1_CommitRequest, CommitRequest__Output as _kvs_v1_CommitRequest__Output } from './kvs/v1/CommitRequest.js';
import type { CommitResponse as _kvs_v1_CommitResponse, CommitResponse__Output as _kvs_v1_CommitResponse__Output } from './kvs/v1/CommitResponse.js';
import type { DeleteRangeRequest as _kvs_v1_DeleteRangeRequest, DeleteRangeRequest__Output as _kvs_v1_DeleteRangeRequest__Output } from './kvs/v1/DeleteRangeRequest.js';
import type { DeleteRangeResponse as _kvs_v1_DeleteRangeResponse, DeleteRangeResponse__Output as _kvs_v1_DeleteRangeResponse__Output } from './kvs/v1/DeleteRangeResponse.js';
import type { DeleteRequest as _kvs_v1_DeleteRequest, DeleteRequest__Output as _kvs_v1_DeleteRequest__Output } from './kvs/v1/DeleteRequest.js';
import type { DeleteResponse as _kvs_v1_DeleteResponse, DeleteResponse__Output as _kvs_v1_DeleteResponse__Output } from './kvs/v1/DeleteResponse.js';
import type { GetRequest as _kvs_v1_GetRequest, GetRequest__Output as _kvs_v1_GetRequest__Output } from './kvs/v1/GetRequest.js';
import type { GetResponse as _kvs_v1_GetResponse, GetResponse__Output as _kvs_v1_GetResponse__Output } from './kvs/v1/GetResponse.js';
import type { KeyValue as _kvs_v1_KeyValue, KeyValue__Output as _kvs_v1_KeyValue__Output } from './kvs/v1/KeyValue.js';
import type { KvClient as _kvs_v1_KvClient, KvDefinition as _kvs_v1_KvDefinition } from './kvs/v1/Kv.js';
import type { Mutation as _kvs_v1_Mutation, Mutation__Output as _kvs_v1_Mutation__Output } from './kvs/v1/Mutation.js';
import type { PutRequest as _kvs_v1_PutRequest, PutRequest__Output as _kvs_v1_PutRequest__Output } from './kvs/v1/PutRequest.js';
import type { PutResponse as _kvs_v1_PutResponse, PutResponse__Output as _kvs_v1_PutResponse__Output } from './kvs/v1/PutResponse.js';
import type { RangeRoute as _kvs_v1_RangeRoute, RangeRoute__Output as _kvs_v1_RangeRoute__Output } from './kvs/v1/RangeRoute.js';
import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from './kvs/v1/RequestHeader.js';
import type { RollbackRequest as _kvs_v1_RollbackRequest, RollbackRequest__Output as _kvs_v1_RollbackRequest__Output } from './kvs/v1/RollbackRequest.js';
import type { RollbackResponse as _kvs_v1_RollbackResponse, RollbackResponse__Output as _kvs_v1_RollbackResponse__Output } from './kvs/v1/RollbackResponse.js';
import type { RouteReplica as _kvs_v1_RouteReplica, RouteReplica__Output as _kvs_v1_RouteReplica__Output } from './kvs/v1/RouteReplica.js';
import type { RoutesRequest as _kvs_v1_RoutesRequest, RoutesRequest__Output as _kvs_v1_RoutesRequest__Output } from './kvs/v1/RoutesRequest.js';
import type { RoutesResponse as _kvs_v1_RoutesResponse, RoutesResponse__Output as _kvs_v1_RoutesResponse__Output } from './kvs/v1/RoutesResponse.js';
import type { ScanRequest as _kvs_v1_ScanRequest, ScanRequest__Output as _kvs_v1_ScanRequest__Output } from './kvs/v1/ScanRequest.js';
import type { ScanResponse as _kvs_v1_ScanResponse, ScanResponse__Output as _kvs_v1_ScanResponse__Output } from './kvs/v1/ScanResponse.js';
import type { StatusRequest as _kvs_v1_StatusRequest, StatusRequest__Output as _kvs_v1_StatusRequest__Output } from './kvs/v1/StatusRequest.js';
import type { StatusResponse as _kvs_v1_StatusResponse, StatusResponse__Output as _kvs_v1_StatusResponse__Output } from './kvs/v1/StatusResponse.js';
import type { StreamError as _kvs_v1_StreamError, StreamError__Output as _kvs_v1_StreamError__Output } from './kvs/v1/StreamError.js';
import type { StreamSubRequest as _kvs_v1_StreamSubRequest, StreamSubRequest__Output as _kvs_v1_StreamSubRequest__Output } from './kvs/v1/StreamSubRequest.js';
import type { StreamSubResponse as _kvs_v1_StreamSubResponse, StreamSubResponse__Output as _kvs_v1_StreamSubResponse__Output } from './kvs/v1/StreamSubResponse.js';
import type { TimestampRequest as _kvs_v1_TimestampRequest, TimestampRequest__Output as _kvs_v1_TimestampRequest__Output } from './kvs/v1/TimestampRequest.js';
import type { TimestampResponse as _kvs_v1_TimestampResponse, TimestampResponse__Output as _kvs_v1_TimestampResponse__Output } from './kvs/v1/TimestampResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  kvs: {
    v1: {
      BatchRequest: MessageTypeDefinition<_kvs_v1_BatchRequest, _kvs_v1_BatchRequest__Output>
      BatchResponse: MessageTypeDefinition<_kvs_v1_BatchResponse, _kvs_v1_BatchResponse__Output>
      BatchStreamRequest: MessageTypeDefinition<_kvs_v1_BatchStreamRequest, _kvs_v1_BatchStreamRequest__Output>
      BatchStreamResponse: MessageTypeDefinition<_kvs_v1_BatchStreamResponse, _kvs_v1_BatchStreamResponse__Output>
      BeginRequest: MessageTypeDefinition<_kvs_v1_BeginRequest, _kvs_v1_BeginRequest__Output>
      BeginResponse: MessageTypeDefinition<_kvs_v1_BeginResponse, _kvs_v1_BeginResponse__Output>
      CommitRequest: MessageTypeDefinition<_kvs_v1_CommitRequest, _kvs_v1_CommitRequest__Output>
      CommitResponse: MessageTypeDefinition<_kvs_v1_CommitResponse, _kvs_v1_CommitResponse__Output>
      DeleteRangeRequest: MessageTypeDefinition<_kvs_v1_DeleteRangeRequest, _kvs_v1_DeleteRangeRequest__Output>
      DeleteRangeResponse: MessageTypeDefinition<_kvs_v1_DeleteRangeResponse, _kvs_v1_DeleteRangeResponse__Output>
      DeleteRequest: MessageTypeDefinition<_kvs_v1_DeleteRequest, _kvs_v1_DeleteRequest__Output>
      DeleteResponse: MessageTypeDefinition<_kvs_v1_DeleteResponse, _kvs_v1_DeleteResponse__Output>
      GetRequest: MessageTypeDefinition<_kvs_v1_GetRequest, _kvs_v1_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_kvs_v1_GetResponse, _kvs_v1_GetResponse__Output>
      KeyValue: MessageTypeDefinition<_kvs_v1_KeyValue, _kvs_v1_KeyValue__Output>
      /**
       * Errors are gRPC statuses. The trailer metadata "kvs-error" holds the typed error code (for example
       * "TXN_CONFLICT"), and "kvs-conflict-key-bin" the conflicting key; retryable errors are ABORTED or UNAVAILABLE.
       */
      Kv: SubtypeConstructor<typeof grpc.Client, _kvs_v1_KvClient> & { service: _kvs_v1_KvDefinition }
      Mutation: MessageTypeDefinition<_kvs_v1_Mutation, _kvs_v1_Mutation__Output>
      PutRequest: MessageTypeDefinition<_kvs_v1_PutRequest, _kvs_v1_PutRequest__Output>
      PutResponse: MessageTypeDefinition<_kvs_v1_PutResponse, _kvs_v1_PutResponse__Output>
      RangeRoute: MessageTypeDefinition<_kvs_v1_RangeRoute, _kvs_v1_RangeRoute__Output>
      RequestHeader: MessageTypeDefinition<_kvs_v1_RequestHeader, _kvs_v1_RequestHeader__Output>
      RollbackRequest: MessageTypeDefinition<_kvs_v1_RollbackRequest, _kvs_v1_RollbackRequest__Output>
      RollbackResponse: MessageTypeDefinition<_kvs_v1_RollbackResponse, _kvs_v1_RollbackResponse__Output>
      RouteReplica: MessageTypeDefinition<_kvs_v1_RouteReplica, _kvs_v1_RouteReplica__Output>
      RoutesRequest: MessageTypeDefinition<_kvs_v1_RoutesRequest, _kvs_v1_RoutesRequest__Output>
      RoutesResponse: MessageTypeDefinition<_kvs_v1_RoutesResponse, _kvs_v1_RoutesResponse__Output>
      ScanRequest: MessageTypeDefinition<_kvs_v1_ScanRequest, _kvs_v1_ScanRequest__Output>
      ScanResponse: MessageTypeDefinition<_kvs_v1_ScanResponse, _kvs_v1_ScanResponse__Output>
      StatusRequest: MessageTypeDefinition<_kvs_v1_StatusRequest, _kvs_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_kvs_v1_StatusResponse, _kvs_v1_StatusResponse__Output>
      StreamError: MessageTypeDefinition<_kvs_v1_StreamError, _kvs_v1_StreamError__Output>
      StreamSubRequest: MessageTypeDefinition<_kvs_v1_StreamSubRequest, _kvs_v1_StreamSubRequest__Output>
      StreamSubResponse: MessageTypeDefinition<_kvs_v1_StreamSubResponse, _kvs_v1_StreamSubResponse__Output>
      TimestampRequest: MessageTypeDefinition<_kvs_v1_TimestampRequest, _kvs_v1_TimestampRequest__Output>
      TimestampResponse: MessageTypeDefinition<_kvs_v1_TimestampResponse, _kvs_v1_TimestampResponse__Output>
    }
  }
}

