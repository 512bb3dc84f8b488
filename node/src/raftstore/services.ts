// gRPC service definitions of the replicated node: kvs.v1.Raft (node ↔ node) and kvs.v1.Admin.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS } from '../common/proto.js';
import { protoPath } from '../common/paths.js';
import { loadRaftProto } from './transport.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../common/raft-limits.js';
import { INSECURE, type ServerSecurity } from '../server/authz.js';
import { bindServer } from '../server/listen.js';
import { splitHostPort } from '../server/node-server.js';

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
export async function startRaftServer(listen: string, impl: grpc.UntypedServiceImplementation, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES, security: ServerSecurity = INSECURE): Promise<grpc.Server> {
  return (await startServiceServer('raft', listen, [{ definition: raftServiceDefinition(), implementation: impl }], maxMessageBytes, security)).server;
}

/** A gRPC server for the Admin service alone (--admin-listen): e.g. a port only the operator can reach. */
export async function startAdminServer(listen: string, impl: grpc.UntypedServiceImplementation, security: ServerSecurity = INSECURE): Promise<{ server: grpc.Server; address: string }> {
  const { server, port } = await startServiceServer('admin', listen, [{ definition: adminServiceDefinition(), implementation: impl }], DEFAULT_MAX_MESSAGE_BYTES, security);
  return { server, address: `${listen.slice(0, listen.lastIndexOf(':'))}:${port}` };
}

async function startServiceServer(
  name: string,
  listen: string,
  services: Array<{ definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation }>,
  maxMessageBytes: number,
  security: ServerSecurity,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.keepalive_permit_without_calls': 1, 'grpc.http2.min_ping_interval_without_data_ms': 5000 });
  for (const s of services) server.addService(s.definition, s.implementation);
  const { host, port: wanted } = splitHostPort(listen);
  const port = await bindServer(server, listen, security, name, host, wanted);
  return { server, port };
}
