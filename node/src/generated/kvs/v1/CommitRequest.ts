// Original file: proto/kv.proto

import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from '../../kvs/v1/RequestHeader.js';
import type { Mutation as _kvs_v1_Mutation, Mutation__Output as _kvs_v1_Mutation__Output } from '../../kvs/v1/Mutation.js';

export interface CommitRequest {
  /**
   * set client_id/seq so a retried commit is exactly-once
   */
  'header'?: (_kvs_v1_RequestHeader | null);
  'txnId'?: (string);
  /**
   * The transaction's writes not sent before (see BeginResponse.commit_carries_writes), applied in order
   * as Put/Delete with txn_id would be, then committed. Every retry of one commit carries the same ones.
   */
  'writes'?: (_kvs_v1_Mutation)[];
  /**
   * Keys the client read at the snapshot outside the transaction (BeginResponse.direct_reads): they join
   * its read set, validated at commit like keys read through it. Every retry carries the same ones.
   */
  'readKeys'?: (Buffer | Uint8Array | string)[];
}

export interface CommitRequest__Output {
  /**
   * set client_id/seq so a retried commit is exactly-once
   */
  'header': (_kvs_v1_RequestHeader__Output | null);
  'txnId': (string);
  /**
   * The transaction's writes not sent before (see BeginResponse.commit_carries_writes), applied in order
   * as Put/Delete with txn_id would be, then committed. Every retry of one commit carries the same ones.
   */
  'writes': (_kvs_v1_Mutation__Output)[];
  /**
   * Keys the client read at the snapshot outside the transaction (BeginResponse.direct_reads): they join
   * its read set, validated at commit like keys read through it. Every retry carries the same ones.
   */
  'readKeys': (Buffer)[];
}
