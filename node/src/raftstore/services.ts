// gRPC service definitions of the replicated node: kvs.v1.Raft (node ↔ node) and kvs.v1.Admin.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS } from '../common/proto.js';
import { protoPath } from '../common/paths.js';
import { loadRaftProto } from './transport.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../common/raft-limits.js';

interface AdminProto {
  kvs: { v1: { Admin: grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition } } };
}

let admin: AdminProto | undefined;
export function loadAdminProto(): AdminProto {
  admin ??= grpc.loadPackageDefinition(protoLoader.loadSync(protoPath('admin.proto'), PROTO_LOADER_OPTIONS)) as unknown as AdminProto;
  return admin;
}

export function raftServiceDefinition(): grpc.ServiceDefinition {
  return loadRaftProto().kvs.v1.Raft.service;
}

export function adminServiceDefinition(): grpc.ServiceDefinition {
  return loadAdminProto().kvs.v1.Admin.service;
}

/**
 * A gRPC server for the Raft service alone (when --raft-listen differs from --listen). It accepts the same
 * message size as the Kv server (--max-message-bytes): commands are bounded against that one limit
 * (common/raft-limits.ts), whichever server the Raft service runs on.
 */
export async function startRaftServer(listen: string, impl: grpc.UntypedServiceImplementation, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): Promise<grpc.Server> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.keepalive_permit_without_calls': 1, 'grpc.http2.min_ping_interval_without_data_ms': 5000 });
  server.addService(raftServiceDefinition(), impl);
  await new Promise<number>((resolve, reject) => server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(new Error(`cannot listen on ${listen} (raft): ${err.message}`)) : resolve(port))));
  return server;
}
