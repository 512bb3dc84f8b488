import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddLearnerRequest as _kvs_v1_AddLearnerRequest, AddLearnerRequest__Output as _kvs_v1_AddLearnerRequest__Output } from './kvs/v1/AddLearnerRequest.js';
import type { AdminClient as _kvs_v1_AdminClient, AdminDefinition as _kvs_v1_AdminDefinition } from './kvs/v1/Admin.js';
import type { AdminResponse as _kvs_v1_AdminResponse, AdminResponse__Output as _kvs_v1_AdminResponse__Output } from './kvs/v1/AdminResponse.js';
import type { AdminStatusRequest as _kvs_v1_AdminStatusRequest, AdminStatusRequest__Output as _kvs_v1_AdminStatusRequest__Output } from './kvs/v1/AdminStatusRequest.js';
import type { AdminStatusResponse as _kvs_v1_AdminStatusResponse, AdminStatusResponse__Output as _kvs_v1_AdminStatusResponse__Output } from './kvs/v1/AdminStatusResponse.js';
import type { CompactRequest as _kvs_v1_CompactRequest, CompactRequest__Output as _kvs_v1_CompactRequest__Output } from './kvs/v1/CompactRequest.js';
import type { DestroyStaleReplicaRequest as _kvs_v1_DestroyStaleReplicaRequest, DestroyStaleReplicaRequest__Output as _kvs_v1_DestroyStaleReplicaRequest__Output } from './kvs/v1/DestroyStaleReplicaRequest.js';
import type { MemberProgress as _kvs_v1_MemberProgress, MemberProgress__Output as _kvs_v1_MemberProgress__Output } from './kvs/v1/MemberProgress.js';
import type { PromoteRequest as _kvs_v1_PromoteRequest, PromoteRequest__Output as _kvs_v1_PromoteRequest__Output } from './kvs/v1/PromoteRequest.js';
import type { RangeEpoch as _kvs_v1_RangeEpoch, RangeEpoch__Output as _kvs_v1_RangeEpoch__Output } from './kvs/v1/RangeEpoch.js';
import type { RangeInfo as _kvs_v1_RangeInfo, RangeInfo__Output as _kvs_v1_RangeInfo__Output } from './kvs/v1/RangeInfo.js';
import type { RangesRequest as _kvs_v1_RangesRequest, RangesRequest__Output as _kvs_v1_RangesRequest__Output } from './kvs/v1/RangesRequest.js';
import type { RangesResponse as _kvs_v1_RangesResponse, RangesResponse__Output as _kvs_v1_RangesResponse__Output } from './kvs/v1/RangesResponse.js';
import type { RemoveMemberRequest as _kvs_v1_RemoveMemberRequest, RemoveMemberRequest__Output as _kvs_v1_RemoveMemberRequest__Output } from './kvs/v1/RemoveMemberRequest.js';
import type { ReplicaInfo as _kvs_v1_ReplicaInfo, ReplicaInfo__Output as _kvs_v1_ReplicaInfo__Output } from './kvs/v1/ReplicaInfo.js';
import type { ResolveLocksRequest as _kvs_v1_ResolveLocksRequest, ResolveLocksRequest__Output as _kvs_v1_ResolveLocksRequest__Output } from './kvs/v1/ResolveLocksRequest.js';
import type { SettingsRequest as _kvs_v1_SettingsRequest, SettingsRequest__Output as _kvs_v1_SettingsRequest__Output } from './kvs/v1/SettingsRequest.js';
import type { SettingsResponse as _kvs_v1_SettingsResponse, SettingsResponse__Output as _kvs_v1_SettingsResponse__Output } from './kvs/v1/SettingsResponse.js';
import type { SnapshotRequest as _kvs_v1_SnapshotRequest, SnapshotRequest__Output as _kvs_v1_SnapshotRequest__Output } from './kvs/v1/SnapshotRequest.js';
import type { SplitRangeRequest as _kvs_v1_SplitRangeRequest, SplitRangeRequest__Output as _kvs_v1_SplitRangeRequest__Output } from './kvs/v1/SplitRangeRequest.js';
import type { SplitRangeResponse as _kvs_v1_SplitRangeResponse, SplitRangeResponse__Output as _kvs_v1_SplitRangeResponse__Output } from './kvs/v1/SplitRangeResponse.js';
import type { TransferLeaderRequest as _kvs_v1_TransferLeaderRequest, TransferLeaderRequest__Output as _kvs_v1_TransferLeaderRequest__Output } from './kvs/v1/TransferLeaderRequest.js';
import type { TxnLockInfo as _kvs_v1_TxnLockInfo, TxnLockInfo__Output as _kvs_v1_TxnLockInfo__Output } from './kvs/v1/TxnLockInfo.js';
import type { TxnLocksRequest as _kvs_v1_TxnLocksRequest, TxnLocksRequest__Output as _kvs_v1_TxnLocksRequest__Output } from './kvs/v1/TxnLocksRequest.js';
import type { TxnLocksResponse as _kvs_v1_TxnLocksResponse, TxnLocksResponse__Output as _kvs_v1_TxnLocksResponse__Output } from './kvs/v1/TxnLocksResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  kvs: {
    v1: {
      AddLearnerRequest: MessageTypeDefinition<_kvs_v1_AddLearnerRequest, _kvs_v1_AddLearnerRequest__Output>
      Admin: SubtypeConstructor<typeof grpc.Client, _kvs_v1_AdminClient> & { service: _kvs_v1_AdminDefinition }
      AdminResponse: MessageTypeDefinition<_kvs_v1_AdminResponse, _kvs_v1_AdminResponse__Output>
      AdminStatusRequest: MessageTypeDefinition<_kvs_v1_AdminStatusRequest, _kvs_v1_AdminStatusRequest__Output>
      AdminStatusResponse: MessageTypeDefinition<_kvs_v1_AdminStatusResponse, _kvs_v1_AdminStatusResponse__Output>
      CompactRequest: MessageTypeDefinition<_kvs_v1_CompactRequest, _kvs_v1_CompactRequest__Output>
      DestroyStaleReplicaRequest: MessageTypeDefinition<_kvs_v1_DestroyStaleReplicaRequest, _kvs_v1_DestroyStaleReplicaRequest__Output>
      MemberProgress: MessageTypeDefinition<_kvs_v1_MemberProgress, _kvs_v1_MemberProgress__Output>
      PromoteRequest: MessageTypeDefinition<_kvs_v1_PromoteRequest, _kvs_v1_PromoteRequest__Output>
      RangeEpoch: MessageTypeDefinition<_kvs_v1_RangeEpoch, _kvs_v1_RangeEpoch__Output>
      RangeInfo: MessageTypeDefinition<_kvs_v1_RangeInfo, _kvs_v1_RangeInfo__Output>
      RangesRequest: MessageTypeDefinition<_kvs_v1_RangesRequest, _kvs_v1_RangesRequest__Output>
      RangesResponse: MessageTypeDefinition<_kvs_v1_RangesResponse, _kvs_v1_RangesResponse__Output>
      RemoveMemberRequest: MessageTypeDefinition<_kvs_v1_RemoveMemberRequest, _kvs_v1_RemoveMemberRequest__Output>
      ReplicaInfo: MessageTypeDefinition<_kvs_v1_ReplicaInfo, _kvs_v1_ReplicaInfo__Output>
      ResolveLocksRequest: MessageTypeDefinition<_kvs_v1_ResolveLocksRequest, _kvs_v1_ResolveLocksRequest__Output>
      SettingsRequest: MessageTypeDefinition<_kvs_v1_SettingsRequest, _kvs_v1_SettingsRequest__Output>
      SettingsResponse: MessageTypeDefinition<_kvs_v1_SettingsResponse, _kvs_v1_SettingsResponse__Output>
      SnapshotRequest: MessageTypeDefinition<_kvs_v1_SnapshotRequest, _kvs_v1_SnapshotRequest__Output>
      SplitRangeRequest: MessageTypeDefinition<_kvs_v1_SplitRangeRequest, _kvs_v1_SplitRangeRequest__Output>
      SplitRangeResponse: MessageTypeDefinition<_kvs_v1_SplitRangeResponse, _kvs_v1_SplitRangeResponse__Output>
      TransferLeaderRequest: MessageTypeDefinition<_kvs_v1_TransferLeaderRequest, _kvs_v1_TransferLeaderRequest__Output>
      TxnLockInfo: MessageTypeDefinition<_kvs_v1_TxnLockInfo, _kvs_v1_TxnLockInfo__Output>
      TxnLocksRequest: MessageTypeDefinition<_kvs_v1_TxnLocksRequest, _kvs_v1_TxnLocksRequest__Output>
      TxnLocksResponse: MessageTypeDefinition<_kvs_v1_TxnLocksResponse, _kvs_v1_TxnLocksResponse__Output>
    }
  }
}

