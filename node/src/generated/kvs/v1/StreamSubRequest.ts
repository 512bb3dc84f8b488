// Original file: proto/kv.proto

import type { GetRequest as _kvs_v1_GetRequest, GetRequest__Output as _kvs_v1_GetRequest__Output } from '../../kvs/v1/GetRequest.js';
import type { PutRequest as _kvs_v1_PutRequest, PutRequest__Output as _kvs_v1_PutRequest__Output } from '../../kvs/v1/PutRequest.js';
import type { DeleteRequest as _kvs_v1_DeleteRequest, DeleteRequest__Output as _kvs_v1_DeleteRequest__Output } from '../../kvs/v1/DeleteRequest.js';
import type { DeleteRangeRequest as _kvs_v1_DeleteRangeRequest, DeleteRangeRequest__Output as _kvs_v1_DeleteRangeRequest__Output } from '../../kvs/v1/DeleteRangeRequest.js';
import type { ScanRequest as _kvs_v1_ScanRequest, ScanRequest__Output as _kvs_v1_ScanRequest__Output } from '../../kvs/v1/ScanRequest.js';
import type { BatchRequest as _kvs_v1_BatchRequest, BatchRequest__Output as _kvs_v1_BatchRequest__Output } from '../../kvs/v1/BatchRequest.js';
import type { BeginRequest as _kvs_v1_BeginRequest, BeginRequest__Output as _kvs_v1_BeginRequest__Output } from '../../kvs/v1/BeginRequest.js';
import type { CommitRequest as _kvs_v1_CommitRequest, CommitRequest__Output as _kvs_v1_CommitRequest__Output } from '../../kvs/v1/CommitRequest.js';
import type { RollbackRequest as _kvs_v1_RollbackRequest, RollbackRequest__Output as _kvs_v1_RollbackRequest__Output } from '../../kvs/v1/RollbackRequest.js';
import type { StatusRequest as _kvs_v1_StatusRequest, StatusRequest__Output as _kvs_v1_StatusRequest__Output } from '../../kvs/v1/StatusRequest.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One request inside a frame. The oneof field numbers are shared with StreamSubResponse.
 */
export interface StreamSubRequest {
  /**
   * chosen by the client, unique among its in-flight requests on this stream
   */
  'requestId'?: (number | string | Long);
  /**
   * the client's deadline for this attempt (0 = none); the server drops late replies
   */
  'timeoutMs'?: (number);
  'get'?: (_kvs_v1_GetRequest | null);
  'put'?: (_kvs_v1_PutRequest | null);
  'delete'?: (_kvs_v1_DeleteRequest | null);
  'deleteRange'?: (_kvs_v1_DeleteRangeRequest | null);
  'scan'?: (_kvs_v1_ScanRequest | null);
  'batch'?: (_kvs_v1_BatchRequest | null);
  'begin'?: (_kvs_v1_BeginRequest | null);
  'commit'?: (_kvs_v1_CommitRequest | null);
  'rollback'?: (_kvs_v1_RollbackRequest | null);
  'status'?: (_kvs_v1_StatusRequest | null);
  'request'?: "get"|"put"|"delete"|"deleteRange"|"scan"|"batch"|"begin"|"commit"|"rollback"|"status";
}

/**
 * One request inside a frame. The oneof field numbers are shared with StreamSubResponse.
 */
export interface StreamSubRequest__Output {
  /**
   * chosen by the client, unique among its in-flight requests on this stream
   */
  'requestId': (number);
  /**
   * the client's deadline for this attempt (0 = none); the server drops late replies
   */
  'timeoutMs': (number);
  'get'?: (_kvs_v1_GetRequest__Output | null);
  'put'?: (_kvs_v1_PutRequest__Output | null);
  'delete'?: (_kvs_v1_DeleteRequest__Output | null);
  'deleteRange'?: (_kvs_v1_DeleteRangeRequest__Output | null);
  'scan'?: (_kvs_v1_ScanRequest__Output | null);
  'batch'?: (_kvs_v1_BatchRequest__Output | null);
  'begin'?: (_kvs_v1_BeginRequest__Output | null);
  'commit'?: (_kvs_v1_CommitRequest__Output | null);
  'rollback'?: (_kvs_v1_RollbackRequest__Output | null);
  'status'?: (_kvs_v1_StatusRequest__Output | null);
  'request'?: "get"|"put"|"delete"|"deleteRange"|"scan"|"batch"|"begin"|"commit"|"rollback"|"status";
}
