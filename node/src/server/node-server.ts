// Assembles one kvs node's network side: the gRPC Kv service over a KvStore plus the observability HTTP
// server. Used by main.ts (the kvs-node binary) and by tests (port 0 → ephemeral ports).
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KvStore } from '../kv/api.js';
import type { Logger } from '../common/logger.js';
import { packageRoot } from '../common/paths.js';
import { loadKvProto } from '../common/proto.js';
import { startHttpServer, type HttpServer, type ReadinessCondition } from './http.js';
import { withRawBatchStream } from './batch-stream.js';
import { createKvService, type RangeRoute } from './kv-service.js';
import { MALFORMED_REQUEST } from './malformed.js';
import { ServerMetrics } from './metrics.js';
import { resolveLimits, type Limits } from './validate.js';
import { INSECURE, type ServerSecurity } from './authz.js';
import { bindServer } from './listen.js';

export interface KvsNodeOptions {
  store: KvStore;
  /** gRPC listen address host:port (port 0 = ephemeral). */
  listen: string;
  /** HTTP listen address host:port for /metrics /healthz /readyz; undefined = no HTTP server. */
  http?: string;
  nodeId: string;
  logger: Logger;
  limits?: Partial<Limits>;
  /** Pass the instance whose storeObserver() was given to the store, so its metrics are exported too. */
  metrics?: ServerMetrics;
  /** Close the store on shutdown (default true). */
  ownsStore?: boolean;
  /** More conditions of /readyz (a replicated node: member of its group, leader known). */
  readiness?: ReadinessCondition[];
  /**
   * Called during shutdown once no Kv call runs any more (streams drained, unary calls answered). A
   * replicated node ends its peers' inbound Raft streams here: they never end by themselves, and the
   * server's drain waits for every open call (without this, every SIGTERM took the whole drain timeout).
   */
  onClientCallsDrained?: () => void;
  /** Routing information of a multi-range store (Kv.Routes). */
  routes?: (directoryOnly: boolean) => RangeRoute[];
  /** The cluster's TSO (Kv.Timestamp), served through the store's meta range. */
  timestamp?: (count: number) => Promise<number>;
  /** Transport security of the gRPC server (default plaintext): mutual TLS + authorizer (authz.ts). */
  security?: ServerSecurity;
  /** More gRPC services on the same server (Raft, Admin of a replicated node). */
  extraServices?: Array<{ definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation }>;
}

export interface KvsNode {
  /** host:port actually bound (resolves port 0). */
  readonly grpcAddress: string;
  readonly grpcPort: number;
  readonly httpAddress: string | undefined;
  readonly metrics: ServerMetrics;
  readonly limits: Limits;
  /**
   * Graceful stop: /readyz turns 503, new calls are refused, in-flight calls get up to `drainMs` to finish
   * (then they are cancelled), the HTTP server and (if owned) the store are closed.
   */
  shutdown(drainMs?: number): Promise<void>;
}

let versionCache: string | undefined;
export function packageVersion(): string {
  if (versionCache) return versionCache;
  try {
    versionCache = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    versionCache = '0.0.0';
  }
  return versionCache;
}

export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr.trim());
  if (!m) throw new Error(`malformed address ${JSON.stringify(addr)} (expected host:port, e.g. 127.0.0.1:7379)`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`malformed address ${JSON.stringify(addr)}: port ${port} > 65535`);
  return { host: m[1] ?? m[2] ?? '', port };
}

/**
 * grpc-js answers an undecodable request with INTERNAL; a malformed message is the client's fault, so the
 * decoder hands the handler a marker instead and the handler answers INVALID_ARGUMENT (kv-service.ts).
 */
function tolerantDecoding<T extends grpc.ServiceDefinition>(def: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(def)) {
    out[name] = {
      ...m,
      requestDeserialize: (buf: Buffer) => {
        try {
          return m.requestDeserialize(buf);
        } catch (err) {
          return { [MALFORMED_REQUEST]: err instanceof Error ? err.message : String(err) };
        }
      },
    };
  }
  return out as T;
}

export async function startKvsNode(opts: KvsNodeOptions): Promise<KvsNode> {
  const limits = resolveLimits(opts.limits);
  const metrics = opts.metrics ?? new ServerMetrics();
  const logger = opts.logger;
  const { store } = opts;
  const version = packageVersion();
  let stopping = false;

  metrics.setEngineStatsSource({ stats: () => store.status() });

  const server = new grpc.Server({
    'grpc.max_receive_message_length': limits.maxReceiveMessageBytes,
    'grpc.max_send_message_length': -1,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5000,
  });
  const proto = loadKvProto();
  const kv = createKvService({ store, limits, logger, metrics, nodeId: opts.nodeId, version, ...(opts.routes !== undefined ? { routes: opts.routes } : {}), ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}) });
  server.addService(withRawBatchStream(tolerantDecoding(proto.kvs.v1.Kv.service)), kv.handlers as unknown as grpc.UntypedServiceImplementation);
  for (const svc of opts.extraServices ?? []) server.addService(svc.definition, svc.implementation);
  const { host, port } = splitHostPort(opts.listen);
  const security = opts.security ?? INSECURE;
  const grpcPort = await bindServer(server, opts.listen, security, 'kv', host, port);
  if (security.material) metrics.setTlsSource(security.material);
  const grpcAddress = `${host.includes(':') ? `[${host}]` : host}:${grpcPort}`;

  let http: HttpServer | undefined;
  if (opts.http) {
    const h = splitHostPort(opts.http);
    try {
      http = await startHttpServer({
        host: h.host,
        port: h.port,
        metrics,
        logger,
        conditions: opts.readiness ?? [],
        ready: async () => {
          if (stopping) return 'shutting down';
          await store.status();
          return true;
        },
      });
    } catch (err) {
      server.forceShutdown();
      throw new Error(`cannot listen on ${opts.http} (http): ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  let shutdownPromise: Promise<void> | undefined;
  return {
    grpcAddress,
    grpcPort,
    httpAddress: http?.address,
    metrics,
    limits,
    shutdown(drainMs = 10_000) {
      shutdownPromise ??= (async () => {
        stopping = true;
        let drainTimedOut = false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            drainTimedOut = true;
            logger.warn('drain timeout: cancelling in-flight calls', { drainMs, streams: kv.streams.size });
            server.forceShutdown();
            resolve();
          }, drainMs);
          // tryShutdown waits for every open call, and a BatchStream lives until it is ended: drain the
          // streams (refuse new sub-requests, answer in-flight ones, end them) alongside.
          void kv.streams.drain().then(async () => {
            // In-flight unary calls may still need Raft (a forwarded proposal, a ReadIndex): wait for them.
            while (metrics.activeCalls > 0 && !drainTimedOut) await new Promise((r) => setTimeout(r, 10));
            opts.onClientCallsDrained?.();
          });
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        await http?.close();
        if (opts.ownsStore !== false) await store.close();
      })();
      return shutdownPromise;
    },
  };
}
