// Original file: proto/kv.proto

import type { GetResponse as _kvs_v1_GetResponse, GetResponse__Output as _kvs_v1_GetResponse__Output } from '../../kvs/v1/GetResponse.js';
import type { PutResponse as _kvs_v1_PutResponse, PutResponse__Output as _kvs_v1_PutResponse__Output } from '../../kvs/v1/PutResponse.js';
import type { DeleteResponse as _kvs_v1_DeleteResponse, DeleteResponse__Output as _kvs_v1_DeleteResponse__Output } from '../../kvs/v1/DeleteResponse.js';
import type { DeleteRangeResponse as _kvs_v1_DeleteRangeResponse, DeleteRangeResponse__Output as _kvs_v1_DeleteRangeResponse__Output } from '../../kvs/v1/DeleteRangeResponse.js';
import type { ScanResponse as _kvs_v1_ScanResponse, ScanResponse__Output as _kvs_v1_ScanResponse__Output } from '../../kvs/v1/ScanResponse.js';
import type { BatchResponse as _kvs_v1_BatchResponse, BatchResponse__Output as _kvs_v1_BatchResponse__Output } from '../../kvs/v1/BatchResponse.js';
import type { BeginResponse as _kvs_v1_BeginResponse, BeginResponse__Output as _kvs_v1_BeginResponse__Output } from '../../kvs/v1/BeginResponse.js';
import type { CommitResponse as _kvs_v1_CommitResponse, CommitResponse__Output as _kvs_v1_CommitResponse__Output } from '../../kvs/v1/CommitResponse.js';
import type { RollbackResponse as _kvs_v1_RollbackResponse, RollbackResponse__Output as _kvs_v1_RollbackResponse__Output } from '../../kvs/v1/RollbackResponse.js';
import type { StatusResponse as _kvs_v1_StatusResponse, StatusResponse__Output as _kvs_v1_StatusResponse__Output } from '../../kvs/v1/StatusResponse.js';
import type { StreamError as _kvs_v1_StreamError, StreamError__Output as _kvs_v1_StreamError__Output } from '../../kvs/v1/StreamError.js';
import type { Long } from '@grpc/proto-loader';

export interface StreamSubResponse {
  'requestId'?: (number | string | Long);
  'get'?: (_kvs_v1_GetResponse | null);
  'put'?: (_kvs_v1_PutResponse | null);
  'delete'?: (_kvs_v1_DeleteResponse | null);
  'deleteRange'?: (_kvs_v1_DeleteRangeResponse | null);
  'scan'?: (_kvs_v1_ScanResponse | null);
  'batch'?: (_kvs_v1_BatchResponse | null);
  'begin'?: (_kvs_v1_BeginResponse | null);
  'commit'?: (_kvs_v1_CommitResponse | null);
  'rollback'?: (_kvs_v1_RollbackResponse | null);
  'status'?: (_kvs_v1_StatusResponse | null);
  'error'?: (_kvs_v1_StreamError | null);
  'response'?: "get"|"put"|"delete"|"deleteRange"|"scan"|"batch"|"begin"|"commit"|"rollback"|"status"|"error";
}

export interface StreamSubResponse__Output {
  'requestId': (number);
  'get'?: (_kvs_v1_GetResponse__Output | null);
  'put'?: (_kvs_v1_PutResponse__Output | null);
  'delete'?: (_kvs_v1_DeleteResponse__Output | null);
  'deleteRange'?: (_kvs_v1_DeleteRangeResponse__Output | null);
  'scan'?: (_kvs_v1_ScanResponse__Output | null);
  'batch'?: (_kvs_v1_BatchResponse__Output | null);
  'begin'?: (_kvs_v1_BeginResponse__Output | null);
  'commit'?: (_kvs_v1_CommitResponse__Output | null);
  'rollback'?: (_kvs_v1_RollbackResponse__Output | null);
  'status'?: (_kvs_v1_StatusResponse__Output | null);
  'error'?: (_kvs_v1_StreamError__Output | null);
  'response'?: "get"|"put"|"delete"|"deleteRange"|"scan"|"batch"|"begin"|"commit"|"rollback"|"status"|"error";
}
