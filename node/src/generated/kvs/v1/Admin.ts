// Original file: proto/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddLearnerRequest as _kvs_v1_AddLearnerRequest, AddLearnerRequest__Output as _kvs_v1_AddLearnerRequest__Output } from '../../kvs/v1/AddLearnerRequest.js';
import type { AdminResponse as _kvs_v1_AdminResponse, AdminResponse__Output as _kvs_v1_AdminResponse__Output } from '../../kvs/v1/AdminResponse.js';
import type { AdminStatusRequest as _kvs_v1_AdminStatusRequest, AdminStatusRequest__Output as _kvs_v1_AdminStatusRequest__Output } from '../../kvs/v1/AdminStatusRequest.js';
import type { AdminStatusResponse as _kvs_v1_AdminStatusResponse, AdminStatusResponse__Output as _kvs_v1_AdminStatusResponse__Output } from '../../kvs/v1/AdminStatusResponse.js';
import type { CompactRequest as _kvs_v1_CompactRequest, CompactRequest__Output as _kvs_v1_CompactRequest__Output } from '../../kvs/v1/CompactRequest.js';
import type { DestroyStaleReplicaRequest as _kvs_v1_DestroyStaleReplicaRequest, DestroyStaleReplicaRequest__Output as _kvs_v1_DestroyStaleReplicaRequest__Output } from '../../kvs/v1/DestroyStaleReplicaRequest.js';
import type { PromoteRequest as _kvs_v1_PromoteRequest, PromoteRequest__Output as _kvs_v1_PromoteRequest__Output } from '../../kvs/v1/PromoteRequest.js';
import type { RangesRequest as _kvs_v1_RangesRequest, RangesRequest__Output as _kvs_v1_RangesRequest__Output } from '../../kvs/v1/RangesRequest.js';
import type { RangesResponse as _kvs_v1_RangesResponse, RangesResponse__Output as _kvs_v1_RangesResponse__Output } from '../../kvs/v1/RangesResponse.js';
import type { RemoveMemberRequest as _kvs_v1_RemoveMemberRequest, RemoveMemberRequest__Output as _kvs_v1_RemoveMemberRequest__Output } from '../../kvs/v1/RemoveMemberRequest.js';
import type { ResolveLocksRequest as _kvs_v1_ResolveLocksRequest, ResolveLocksRequest__Output as _kvs_v1_ResolveLocksRequest__Output } from '../../kvs/v1/ResolveLocksRequest.js';
import type { SettingsRequest as _kvs_v1_SettingsRequest, SettingsRequest__Output as _kvs_v1_SettingsRequest__Output } from '../../kvs/v1/SettingsRequest.js';
import type { SettingsResponse as _kvs_v1_SettingsResponse, SettingsResponse__Output as _kvs_v1_SettingsResponse__Output } from '../../kvs/v1/SettingsResponse.js';
import type { SnapshotRequest as _kvs_v1_SnapshotRequest, SnapshotRequest__Output as _kvs_v1_SnapshotRequest__Output } from '../../kvs/v1/SnapshotRequest.js';
import type { SplitRangeRequest as _kvs_v1_SplitRangeRequest, SplitRangeRequest__Output as _kvs_v1_SplitRangeRequest__Output } from '../../kvs/v1/SplitRangeRequest.js';
import type { SplitRangeResponse as _kvs_v1_SplitRangeResponse, SplitRangeResponse__Output as _kvs_v1_SplitRangeResponse__Output } from '../../kvs/v1/SplitRangeResponse.js';
import type { TransferLeaderRequest as _kvs_v1_TransferLeaderRequest, TransferLeaderRequest__Output as _kvs_v1_TransferLeaderRequest__Output } from '../../kvs/v1/TransferLeaderRequest.js';
import type { TxnLocksRequest as _kvs_v1_TxnLocksRequest, TxnLocksRequest__Output as _kvs_v1_TxnLocksRequest__Output } from '../../kvs/v1/TxnLocksRequest.js';
import type { TxnLocksResponse as _kvs_v1_TxnLocksResponse, TxnLocksResponse__Output as _kvs_v1_TxnLocksResponse__Output } from '../../kvs/v1/TxnLocksResponse.js';

export interface AdminClient extends grpc.Client {
  AddLearner(argument: _kvs_v1_AddLearnerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  AddLearner(argument: _kvs_v1_AddLearnerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  AddLearner(argument: _kvs_v1_AddLearnerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  AddLearner(argument: _kvs_v1_AddLearnerRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  addLearner(argument: _kvs_v1_AddLearnerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  addLearner(argument: _kvs_v1_AddLearnerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  addLearner(argument: _kvs_v1_AddLearnerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  addLearner(argument: _kvs_v1_AddLearnerRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  
  Compact(argument: _kvs_v1_CompactRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Compact(argument: _kvs_v1_CompactRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Compact(argument: _kvs_v1_CompactRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Compact(argument: _kvs_v1_CompactRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  compact(argument: _kvs_v1_CompactRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  compact(argument: _kvs_v1_CompactRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  compact(argument: _kvs_v1_CompactRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  compact(argument: _kvs_v1_CompactRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Placement (issue 13): a replica its range no longer lists, on a store that missed its removal.
   */
  DestroyStaleReplica(argument: _kvs_v1_DestroyStaleReplicaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  DestroyStaleReplica(argument: _kvs_v1_DestroyStaleReplicaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  DestroyStaleReplica(argument: _kvs_v1_DestroyStaleReplicaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  DestroyStaleReplica(argument: _kvs_v1_DestroyStaleReplicaRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Placement (issue 13): a replica its range no longer lists, on a store that missed its removal.
   */
  destroyStaleReplica(argument: _kvs_v1_DestroyStaleReplicaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  destroyStaleReplica(argument: _kvs_v1_DestroyStaleReplicaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  destroyStaleReplica(argument: _kvs_v1_DestroyStaleReplicaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  destroyStaleReplica(argument: _kvs_v1_DestroyStaleReplicaRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  
  Promote(argument: _kvs_v1_PromoteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Promote(argument: _kvs_v1_PromoteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Promote(argument: _kvs_v1_PromoteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Promote(argument: _kvs_v1_PromoteRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  promote(argument: _kvs_v1_PromoteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  promote(argument: _kvs_v1_PromoteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  promote(argument: _kvs_v1_PromoteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  promote(argument: _kvs_v1_PromoteRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Sharding (docs/sharding.md): the ranges this store holds, and a manual split.
   */
  Ranges(argument: _kvs_v1_RangesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RangesResponse__Output>): grpc.ClientUnaryCall;
  Ranges(argument: _kvs_v1_RangesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_RangesResponse__Output>): grpc.ClientUnaryCall;
  Ranges(argument: _kvs_v1_RangesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RangesResponse__Output>): grpc.ClientUnaryCall;
  Ranges(argument: _kvs_v1_RangesRequest, callback: grpc.requestCallback<_kvs_v1_RangesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Sharding (docs/sharding.md): the ranges this store holds, and a manual split.
   */
  ranges(argument: _kvs_v1_RangesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RangesResponse__Output>): grpc.ClientUnaryCall;
  ranges(argument: _kvs_v1_RangesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_RangesResponse__Output>): grpc.ClientUnaryCall;
  ranges(argument: _kvs_v1_RangesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_RangesResponse__Output>): grpc.ClientUnaryCall;
  ranges(argument: _kvs_v1_RangesRequest, callback: grpc.requestCallback<_kvs_v1_RangesResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveMember(argument: _kvs_v1_RemoveMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _kvs_v1_RemoveMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _kvs_v1_RemoveMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _kvs_v1_RemoveMemberRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _kvs_v1_RemoveMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _kvs_v1_RemoveMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _kvs_v1_RemoveMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _kvs_v1_RemoveMemberRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  
  ResolveLocks(argument: _kvs_v1_ResolveLocksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  ResolveLocks(argument: _kvs_v1_ResolveLocksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  ResolveLocks(argument: _kvs_v1_ResolveLocksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  ResolveLocks(argument: _kvs_v1_ResolveLocksRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  resolveLocks(argument: _kvs_v1_ResolveLocksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  resolveLocks(argument: _kvs_v1_ResolveLocksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  resolveLocks(argument: _kvs_v1_ResolveLocksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  resolveLocks(argument: _kvs_v1_ResolveLocksRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  
  Settings(argument: _kvs_v1_SettingsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SettingsResponse__Output>): grpc.ClientUnaryCall;
  Settings(argument: _kvs_v1_SettingsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_SettingsResponse__Output>): grpc.ClientUnaryCall;
  Settings(argument: _kvs_v1_SettingsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SettingsResponse__Output>): grpc.ClientUnaryCall;
  Settings(argument: _kvs_v1_SettingsRequest, callback: grpc.requestCallback<_kvs_v1_SettingsResponse__Output>): grpc.ClientUnaryCall;
  settings(argument: _kvs_v1_SettingsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SettingsResponse__Output>): grpc.ClientUnaryCall;
  settings(argument: _kvs_v1_SettingsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_SettingsResponse__Output>): grpc.ClientUnaryCall;
  settings(argument: _kvs_v1_SettingsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SettingsResponse__Output>): grpc.ClientUnaryCall;
  settings(argument: _kvs_v1_SettingsRequest, callback: grpc.requestCallback<_kvs_v1_SettingsResponse__Output>): grpc.ClientUnaryCall;
  
  Snapshot(argument: _kvs_v1_SnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Snapshot(argument: _kvs_v1_SnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Snapshot(argument: _kvs_v1_SnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Snapshot(argument: _kvs_v1_SnapshotRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _kvs_v1_SnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _kvs_v1_SnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _kvs_v1_SnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _kvs_v1_SnapshotRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  
  SplitRange(argument: _kvs_v1_SplitRangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SplitRangeResponse__Output>): grpc.ClientUnaryCall;
  SplitRange(argument: _kvs_v1_SplitRangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_SplitRangeResponse__Output>): grpc.ClientUnaryCall;
  SplitRange(argument: _kvs_v1_SplitRangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SplitRangeResponse__Output>): grpc.ClientUnaryCall;
  SplitRange(argument: _kvs_v1_SplitRangeRequest, callback: grpc.requestCallback<_kvs_v1_SplitRangeResponse__Output>): grpc.ClientUnaryCall;
  splitRange(argument: _kvs_v1_SplitRangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SplitRangeResponse__Output>): grpc.ClientUnaryCall;
  splitRange(argument: _kvs_v1_SplitRangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_SplitRangeResponse__Output>): grpc.ClientUnaryCall;
  splitRange(argument: _kvs_v1_SplitRangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_SplitRangeResponse__Output>): grpc.ClientUnaryCall;
  splitRange(argument: _kvs_v1_SplitRangeRequest, callback: grpc.requestCallback<_kvs_v1_SplitRangeResponse__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _kvs_v1_AdminStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminStatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _kvs_v1_AdminStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminStatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _kvs_v1_AdminStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminStatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _kvs_v1_AdminStatusRequest, callback: grpc.requestCallback<_kvs_v1_AdminStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvs_v1_AdminStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvs_v1_AdminStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvs_v1_AdminStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvs_v1_AdminStatusRequest, callback: grpc.requestCallback<_kvs_v1_AdminStatusResponse__Output>): grpc.ClientUnaryCall;
  
  TransferLeader(argument: _kvs_v1_TransferLeaderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  TransferLeader(argument: _kvs_v1_TransferLeaderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  TransferLeader(argument: _kvs_v1_TransferLeaderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  TransferLeader(argument: _kvs_v1_TransferLeaderRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _kvs_v1_TransferLeaderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _kvs_v1_TransferLeaderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _kvs_v1_TransferLeaderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _kvs_v1_TransferLeaderRequest, callback: grpc.requestCallback<_kvs_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  
  TxnLocks(argument: _kvs_v1_TxnLocksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TxnLocksResponse__Output>): grpc.ClientUnaryCall;
  TxnLocks(argument: _kvs_v1_TxnLocksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_TxnLocksResponse__Output>): grpc.ClientUnaryCall;
  TxnLocks(argument: _kvs_v1_TxnLocksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TxnLocksResponse__Output>): grpc.ClientUnaryCall;
  TxnLocks(argument: _kvs_v1_TxnLocksRequest, callback: grpc.requestCallback<_kvs_v1_TxnLocksResponse__Output>): grpc.ClientUnaryCall;
  txnLocks(argument: _kvs_v1_TxnLocksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TxnLocksResponse__Output>): grpc.ClientUnaryCall;
  txnLocks(argument: _kvs_v1_TxnLocksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvs_v1_TxnLocksResponse__Output>): grpc.ClientUnaryCall;
  txnLocks(argument: _kvs_v1_TxnLocksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvs_v1_TxnLocksResponse__Output>): grpc.ClientUnaryCall;
  txnLocks(argument: _kvs_v1_TxnLocksRequest, callback: grpc.requestCallback<_kvs_v1_TxnLocksResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AdminHandlers extends grpc.UntypedServiceImplementation {
  AddLearner: grpc.handleUnaryCall<_kvs_v1_AddLearnerRequest__Output, _kvs_v1_AdminResponse>;
  
  Compact: grpc.handleUnaryCall<_kvs_v1_CompactRequest__Output, _kvs_v1_AdminResponse>;
  
  /**
   * Placement (issue 13): a replica its range no longer lists, on a store that missed its removal.
   */
  DestroyStaleReplica: grpc.handleUnaryCall<_kvs_v1_DestroyStaleReplicaRequest__Output, _kvs_v1_AdminResponse>;
  
  Promote: grpc.handleUnaryCall<_kvs_v1_PromoteRequest__Output, _kvs_v1_AdminResponse>;
  
  /**
   * Sharding (docs/sharding.md): the ranges this store holds, and a manual split.
   */
  Ranges: grpc.handleUnaryCall<_kvs_v1_RangesRequest__Output, _kvs_v1_RangesResponse>;
  
  RemoveMember: grpc.handleUnaryCall<_kvs_v1_RemoveMemberRequest__Output, _kvs_v1_AdminResponse>;
  
  ResolveLocks: grpc.handleUnaryCall<_kvs_v1_ResolveLocksRequest__Output, _kvs_v1_AdminResponse>;
  
  Settings: grpc.handleUnaryCall<_kvs_v1_SettingsRequest__Output, _kvs_v1_SettingsResponse>;
  
  Snapshot: grpc.handleUnaryCall<_kvs_v1_SnapshotRequest__Output, _kvs_v1_AdminResponse>;
  
  SplitRange: grpc.handleUnaryCall<_kvs_v1_SplitRangeRequest__Output, _kvs_v1_SplitRangeResponse>;
  
  Status: grpc.handleUnaryCall<_kvs_v1_AdminStatusRequest__Output, _kvs_v1_AdminStatusResponse>;
  
  TransferLeader: grpc.handleUnaryCall<_kvs_v1_TransferLeaderRequest__Output, _kvs_v1_AdminResponse>;
  
  TxnLocks: grpc.handleUnaryCall<_kvs_v1_TxnLocksRequest__Output, _kvs_v1_TxnLocksResponse>;
  
}

export interface AdminDefinition extends grpc.ServiceDefinition {
  AddLearner: MethodDefinition<_kvs_v1_AddLearnerRequest, _kvs_v1_AdminResponse, _kvs_v1_AddLearnerRequest__Output, _kvs_v1_AdminResponse__Output>
  Compact: MethodDefinition<_kvs_v1_CompactRequest, _kvs_v1_AdminResponse, _kvs_v1_CompactRequest__Output, _kvs_v1_AdminResponse__Output>
  DestroyStaleReplica: MethodDefinition<_kvs_v1_DestroyStaleReplicaRequest, _kvs_v1_AdminResponse, _kvs_v1_DestroyStaleReplicaRequest__Output, _kvs_v1_AdminResponse__Output>
  Promote: MethodDefinition<_kvs_v1_PromoteRequest, _kvs_v1_AdminResponse, _kvs_v1_PromoteRequest__Output, _kvs_v1_AdminResponse__Output>
  Ranges: MethodDefinition<_kvs_v1_RangesRequest, _kvs_v1_RangesResponse, _kvs_v1_RangesRequest__Output, _kvs_v1_RangesResponse__Output>
  RemoveMember: MethodDefinition<_kvs_v1_RemoveMemberRequest, _kvs_v1_AdminResponse, _kvs_v1_RemoveMemberRequest__Output, _kvs_v1_AdminResponse__Output>
  ResolveLocks: MethodDefinition<_kvs_v1_ResolveLocksRequest, _kvs_v1_AdminResponse, _kvs_v1_ResolveLocksRequest__Output, _kvs_v1_AdminResponse__Output>
  Settings: MethodDefinition<_kvs_v1_SettingsRequest, _kvs_v1_SettingsResponse, _kvs_v1_SettingsRequest__Output, _kvs_v1_SettingsResponse__Output>
  Snapshot: MethodDefinition<_kvs_v1_SnapshotRequest, _kvs_v1_AdminResponse, _kvs_v1_SnapshotRequest__Output, _kvs_v1_AdminResponse__Output>
  SplitRange: MethodDefinition<_kvs_v1_SplitRangeRequest, _kvs_v1_SplitRangeResponse, _kvs_v1_SplitRangeRequest__Output, _kvs_v1_SplitRangeResponse__Output>
  Status: MethodDefinition<_kvs_v1_AdminStatusRequest, _kvs_v1_AdminStatusResponse, _kvs_v1_AdminStatusRequest__Output, _kvs_v1_AdminStatusResponse__Output>
  TransferLeader: MethodDefinition<_kvs_v1_TransferLeaderRequest, _kvs_v1_AdminResponse, _kvs_v1_TransferLeaderRequest__Output, _kvs_v1_AdminResponse__Output>
  TxnLocks: MethodDefinition<_kvs_v1_TxnLocksRequest, _kvs_v1_TxnLocksResponse, _kvs_v1_TxnLocksRequest__Output, _kvs_v1_TxnLocksResponse__Output>
}
