// Public entry of the kvs client library.
export { KvClient, Transaction, parseEndpoints } from './kv-client.js';
export type {
  BackoffOptions,
  CallOptions,
  GetResult,
  IterateOptions,
  KeyValue,
  KvClientOptions,
  MutationInput,
  PutOptions,
  PutResult,
  RangeOptions,
  ScanOptions,
  ScanResult,
  StatusResult,
  TxnOptions,
  TxnOutcome,
} from './kv-client.js';
export * from './errors.js';
export { LostReplyInjector, type LostReplyOptions } from './fault-injection.js';
export { ClientSession } from './session.js';
export { prefixEnd, toBuffer, type KeyLike } from './keys.js';
export { AdminClient, type AdminClientOptions, type AdminStatus, type AdminResult, type ClusterSettings, type RangeInfo } from './admin-client.js';
export { ReloadingTls, TlsConfigError, type ClientTlsOptions, type PemSource } from '../common/tls.js';
export { collectShardMap, moveReplica, addReplica, removeReplica, transferRangeLeader, type ShardMap, type StoreReport, type MoveOptions } from './range-moves.js';
export { drainStore, planDrain, drainInputOf, describeStep, MEMBERSHIP_RANGE_ID, KEPT_NO_TARGET, KEPT_NO_LEADER_TARGET } from './drain.js';
export type { DrainInput, DrainPlan, DrainStep, DrainRange, DrainStoreState, DrainEvent, DrainOptions, DrainResult } from './drain.js';
export { DrainUnknownStoreError, DrainIncompleteError } from './errors.js';
