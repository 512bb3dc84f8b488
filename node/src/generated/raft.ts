import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { RaftClient as _kvs_v1_RaftClient, RaftDefinition as _kvs_v1_RaftDefinition } from './kvs/v1/Raft.js';
import type { RaftFrame as _kvs_v1_RaftFrame, RaftFrame__Output as _kvs_v1_RaftFrame__Output } from './kvs/v1/RaftFrame.js';
import type { SnapshotChunk as _kvs_v1_SnapshotChunk, SnapshotChunk__Output as _kvs_v1_SnapshotChunk__Output } from './kvs/v1/SnapshotChunk.js';
import type { SnapshotDone as _kvs_v1_SnapshotDone, SnapshotDone__Output as _kvs_v1_SnapshotDone__Output } from './kvs/v1/SnapshotDone.js';
import type { StaleReplicaNotice as _kvs_v1_StaleReplicaNotice, StaleReplicaNotice__Output as _kvs_v1_StaleReplicaNotice__Output } from './kvs/v1/StaleReplicaNotice.js';
import type { TxnCallRequest as _kvs_v1_TxnCallRequest, TxnCallRequest__Output as _kvs_v1_TxnCallRequest__Output } from './kvs/v1/TxnCallRequest.js';
import type { TxnCallResponse as _kvs_v1_TxnCallResponse, TxnCallResponse__Output as _kvs_v1_TxnCallResponse__Output } from './kvs/v1/TxnCallResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  kvs: {
    v1: {
      Raft: SubtypeConstructor<typeof grpc.Client, _kvs_v1_RaftClient> & { service: _kvs_v1_RaftDefinition }
      RaftFrame: MessageTypeDefinition<_kvs_v1_RaftFrame, _kvs_v1_RaftFrame__Output>
      SnapshotChunk: MessageTypeDefinition<_kvs_v1_SnapshotChunk, _kvs_v1_SnapshotChunk__Output>
      SnapshotDone: MessageTypeDefinition<_kvs_v1_SnapshotDone, _kvs_v1_SnapshotDone__Output>
      StaleReplicaNotice: MessageTypeDefinition<_kvs_v1_StaleReplicaNotice, _kvs_v1_StaleReplicaNotice__Output>
      TxnCallRequest: MessageTypeDefinition<_kvs_v1_TxnCallRequest, _kvs_v1_TxnCallRequest__Output>
      TxnCallResponse: MessageTypeDefinition<_kvs_v1_TxnCallResponse, _kvs_v1_TxnCallResponse__Output>
    }
  }
}

