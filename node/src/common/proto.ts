// Loads proto/kv.proto at runtime with the same options the generated types (node/src/generated/) assume:
// camelCase fields, 64-bit integers as JS numbers (< 2^53 by design), enums as strings, defaults filled in,
// bytes as Buffer (protobufjs' default when `bytes` is unset). Shared by the server and the client.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../generated/kv.js';
import { protoPath } from './paths.js';

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: ProtoGrpcType | undefined;

/** The loaded `kvs.v1` package: `.kvs.v1.Kv` is both the client constructor and `.service` the definition. */
export function loadKvProto(): ProtoGrpcType {
  if (cached) return cached;
  const def = protoLoader.loadSync(protoPath('kv.proto'), PROTO_LOADER_OPTIONS);
  cached = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  return cached;
}

/** Full gRPC method paths, e.g. `/kvs.v1.Kv/Put`. */
export const KV_SERVICE_NAME = 'kvs.v1.Kv';
export type KvMethod = 'Get' | 'Put' | 'Delete' | 'DeleteRange' | 'Scan' | 'Batch' | 'Begin' | 'Commit' | 'Rollback' | 'Status';
export const KV_METHODS: readonly KvMethod[] = ['Get', 'Put', 'Delete', 'DeleteRange', 'Scan', 'Batch', 'Begin', 'Commit', 'Rollback', 'Status'];
