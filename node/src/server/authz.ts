// Who may call what, when TLS is on. Every gRPC server of a node (Kv, Raft, Admin — one server or
// several) runs this authorizer first on every call, before any request message is read:
//   * no verified client certificate (none, another CA's, expired, wrong key usage) → UNAUTHENTICATED
//     with the reason (common/tls.ts records it per connection): the TLS handshake itself lets such
//     clients in precisely so that they get this answer instead of a bare connection reset;
//   * kvs.v1.Admin → the certificate must name an admin identity (--admin-identities, default kvs-admin);
//   * kvs.v1.Raft  → the certificate must name a peer identity (--peer-identities, default kvs-node): a
//     data client must not be able to inject Raft messages or snapshots;
//   * kvs.v1.Kv    → any verified certificate.
// A certificate "names" an identity when its subject CN or a DNS/URI subjectAltName matches it (exact, or
// `*.suffix`). Refusals are typed errors mapped in status-mapping.ts like every other error.
import * as grpc from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { Logger } from '../common/logger.js';
import { ReloadingTls, TlsConnectionObserver, identityMatches, peerIdentities } from '../common/tls.js';
import { PermissionDeniedError, UnauthenticatedError } from '../kv/errors.js';
import { toGrpcStatus } from './status-mapping.js';
import type { TlsConfig } from './config.js';

export const DEFAULT_ADMIN_IDENTITIES = ['kvs-admin'];
export const DEFAULT_PEER_IDENTITIES = ['kvs-node'];

export interface AccessPolicy {
  /** Identities allowed to call kvs.v1.Admin. */
  admin: readonly string[];
  /** Identities allowed to call kvs.v1.Raft (the other nodes). */
  peer: readonly string[];
}

/** What grpc-js's call.getAuthContext() reports (its type is not exported by the package index). */
export interface AuthContext {
  transportSecurityType?: string;
  sslPeerCertificate?: PeerCertificate;
}

/** What a service requires: any verified client, or one of a list of identities. */
function requiredIdentities(path: string, policy: AccessPolicy): { role: string; identities: readonly string[] } | undefined {
  const service = path.split('/')[1] ?? '';
  if (service === 'kvs.v1.Admin') return { role: 'admin', identities: policy.admin };
  if (service === 'kvs.v1.Raft') return { role: 'peer', identities: policy.peer };
  return undefined;
}

/**
 * Decides one call: undefined = allowed, else the typed error to answer with. Pure (tests call it with
 * hand-made auth contexts).
 */
export function authorize(path: string, auth: AuthContext, policy: AccessPolicy, unverifiedReason?: string): UnauthenticatedError | PermissionDeniedError | undefined {
  const cert = auth.transportSecurityType === 'ssl' ? auth.sslPeerCertificate : undefined;
  if (cert === undefined) {
    return new UnauthenticatedError(`TLS client certificate refused: ${unverifiedReason ?? 'no verified client certificate'} (this node requires mutual TLS: a certificate signed by its trusted CA)`);
  }
  const need = requiredIdentities(path, policy);
  if (need === undefined) return undefined;
  const names = peerIdentities(cert);
  if (identityMatches(names, need.identities)) return undefined;
  return new PermissionDeniedError(`${path}: certificate [${names.join(', ')}] is not an allowed ${need.role} identity (allowed: ${need.identities.join(', ')})`);
}

export interface AuthorizerOptions {
  policy: AccessPolicy;
  observer: TlsConnectionObserver;
  logger: Logger;
  /** Transition (--tls-transition): calls over plaintext connections pass, unauthenticated. */
  allowPlaintext?: boolean;
}

/** The grpc-js server interceptor applying `authorize` to every call. */
export function createAuthorizer(o: AuthorizerOptions): grpc.ServerInterceptor {
  const lastLogged = new Map<string, number>();
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, mdNext) => {
            const info = call.getConnectionInfo();
            if (o.allowPlaintext && o.observer.isPlaintext(info.remoteAddress, info.remotePort)) {
              mdNext(metadata);
              return;
            }
            const err = authorize(method.path, call.getAuthContext(), o.policy, o.observer.reasonFor(info.remoteAddress, info.remotePort));
            if (err === undefined) {
              mdNext(metadata);
              return;
            }
            // One line per client, method and outcome every 30 s: a refused peer retries every tick.
            const key = `${info.remoteAddress ?? '?'}|${method.path}|${err.code}`;
            const now = Date.now();
            if (now - (lastLogged.get(key) ?? 0) >= 30_000) {
              if (lastLogged.size > 1000) lastLogged.clear();
              lastLogged.set(key, now);
              o.logger.warn('call refused', { method: method.path, code: err.code, remote: `${info.remoteAddress ?? '?'}:${info.remotePort ?? 0}`, reason: err.message });
            }
            const st = toGrpcStatus(err);
            call.sendStatus({ code: st.code, details: st.details, metadata: st.metadata });
          },
        });
      },
    });
}

/** Credentials of every gRPC server of a node, plus what must be done once a server is bound. */
export interface ServerSecurity {
  credentials: grpc.ServerCredentials;
  /** Call after bindAsync (TLS: observe handshakes and refusals of that server). */
  attach(server: grpc.Server, service: string): void;
  readonly tls: boolean;
  /**
   * TLS transition (--tls-transition): listeners accept plaintext connections too (server/listen.ts) and
   * their calls pass unauthenticated; the Raft dialer falls back to plaintext for peers without TLS.
   */
  readonly transition?: { observer: TlsConnectionObserver };
  /** The TLS material in force (metrics: certificate expiry, reloads). */
  readonly material?: ReloadingTls;
}

export const INSECURE: ServerSecurity = { credentials: grpc.ServerCredentials.createInsecure(), attach: () => undefined, tls: false };

/** TLS server security over `tls`: mutual TLS with the authorizer above on every server. */
export function tlsServerSecurity(tls: ReloadingTls, policy: AccessPolicy, logger: Logger, o: { transition?: boolean } = {}): ServerSecurity {
  const observer = new TlsConnectionObserver(logger);
  const credentials = tls.serverCredentials({ authorizer: createAuthorizer({ policy, observer, logger, allowPlaintext: o.transition === true }) });
  return { credentials, attach: (server, service) => observer.attach(server, service), tls: true, material: tls, ...(o.transition ? { transition: { observer } } : {}) };
}

/** Everything TLS of one node: its servers' security and the credentials it dials peers with. */
export interface NodeSecurity {
  server: ServerSecurity;
  /** Credentials of the Raft channels to peers (undefined = plaintext). */
  peerCredentials: grpc.ChannelCredentials | undefined;
  /** Transition: what the Raft dialer falls back to for a peer that does not speak TLS (plaintext). */
  peerFallbackCredentials: grpc.ChannelCredentials | undefined;
  close(): void;
}

/**
 * Loads and validates the node's TLS files (throws TlsConfigError naming the file and the reason) and
 * watches them for rotation. Plaintext when `tls` is undefined.
 */
export function nodeSecurity(tls: TlsConfig | undefined, logger: Logger): NodeSecurity {
  if (tls === undefined) return { server: INSECURE, peerCredentials: undefined, peerFallbackCredentials: undefined, close: () => undefined };
  const material = new ReloadingTls({
    sources: { ca: tls.trustedCaFile, cert: tls.certFile, key: tls.keyFile, labels: { ca: '--trusted-ca-file', cert: '--cert-file', key: '--key-file' } },
    requireCert: true,
    // Peers verify this certificate against the same bundle: one signed by another CA would be refused.
    requireTrustedCert: true,
    pollMs: tls.reloadMs,
    logger: logger.child({ component: 'tls' }),
    role: 'node',
  });
  return {
    server: tlsServerSecurity(material, { admin: tls.adminIdentities, peer: tls.peerIdentities }, logger.child({ component: 'authz' }), { transition: tls.transition }),
    peerCredentials: material.channelCredentials(),
    peerFallbackCredentials: tls.transition ? grpc.credentials.createInsecure() : undefined,
    close: () => material.close(),
  };
}
