// TLS material for every gRPC connection of kvs (Kv, Raft, Admin; servers and clients): the ONE place
// that reads certificate files, validates them, reloads them when they change, and turns them into
// grpc-js credentials.
//
// * Sources are file paths (watched: polled by mtime/size/inode, which also catches Kubernetes' Secret
//   volumes swapping their `..data` symlink) or PEM bytes (fixed).
// * Loading validates what a handshake would otherwise fail on obscurely: every file readable and PEM,
//   certificate and key matching, certificate within its validity period, and (for a node) signed by the
//   trusted CA, since peers verify it against the same bundle. A bad start is a TlsConfigError naming the
//   file and the reason. A bad reload (a half-written rotation, a mismatched key) is logged as an error
//   and the previous, valid material stays in force; the next change of the files is tried again.
// * Servers request a client certificate and verify it against the trusted CA, but do not abort the
//   handshake when it fails: node's TLS server would then just close the socket, and the client would
//   see "Failed to connect" and the server log "socket hang up", neither saying why. Instead the
//   connection is kept and every call on it is refused by the server's authorizer (server/authz.ts)
//   with UNAUTHENTICATED and the reason (no certificate, unknown CA, expired, wrong key usage), which
//   TlsConnectionObserver records per connection and logs. So server credentials are only handed out
//   together with that authorizer.
// * A reload swaps the secure context of the listening servers: new connections get the new
//   certificate, established connections (Raft streams, client channels) keep theirs, so a rotation
//   never drops a connection and never costs the group its quorum.
// * Clients: the channel credentials read the current material on every new connection (grpc-js
//   certificate-provider credentials), so a rotated client certificate is used from the next connect.
import * as grpc from '@grpc/grpc-js';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContextOptions } from 'node:tls';
import type { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';

export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
  readonly code = 'TLS_CONFIG' as const;
}

/** A file path (watched and reloaded when it changes) or PEM bytes (fixed). */
export type PemSource = string | Buffer;

export interface TlsSources {
  /** Trusted CA bundle: verifies the other side. */
  ca: PemSource;
  /** This side's certificate chain (leaf first); optional for a client without a certificate. */
  cert?: PemSource;
  key?: PemSource;
  /** How each source is named in errors (e.g. '--trusted-ca-file'); default 'ca', 'cert', 'key'. */
  labels?: { ca?: string; cert?: string; key?: string };
}

export interface CertInfo {
  subject: string;
  /** Common name and DNS/URI subject alternative names: what identity checks match. */
  identities: string[];
  issuer: string;
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
  serialNumber: string;
}

export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer | undefined;
  key: Buffer | undefined;
  /** The leaf certificate (undefined without a certificate). */
  leaf: CertInfo | undefined;
  caCerts: CertInfo[];
}

export interface LoadOptions {
  /** The certificate must be signed by a CA of the trusted bundle (a node: peers verify it with it). */
  requireTrustedCert?: boolean;
  /** A certificate and key are required (a server). */
  requireCert?: boolean;
  now?: number;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function parseCertificates(pem: Buffer, label: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new TlsConfigError(`${label}: no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new TlsConfigError(`${label}: certificate ${i + 1} is not valid X.509: ${(e as Error).message}`);
    }
  });
}

function commonNames(subject: string): string[] {
  return subject
    .split('\n')
    .map((l) => /^CN=(.*)$/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined && x !== '');
}

/** "DNS:a, IP Address:1.2.3.4, URI:spiffe://x" → DNS and URI values (node may quote odd entries as JSON). */
function altNames(san: string | undefined): string[] {
  if (!san) return [];
  const out: string[] = [];
  for (const part of san.split(/, (?=[A-Za-z ]+:)/)) {
    const m = /^(DNS|URI):(.*)$/.exec(part.trim());
    if (!m) continue;
    let v = m[2]!;
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        continue;
      }
    }
    out.push(v);
  }
  return out;
}

function infoOf(c: X509Certificate): CertInfo {
  return {
    subject: c.subject.replace(/\n/g, ', '),
    identities: [...new Set([...commonNames(c.subject), ...altNames(c.subjectAltName)])],
    issuer: c.issuer.replace(/\n/g, ', '),
    notBefore: new Date(c.validFrom).toISOString(),
    notAfter: new Date(c.validTo).toISOString(),
    fingerprint256: c.fingerprint256,
    serialNumber: c.serialNumber,
  };
}

/** Identities (CN, DNS and URI SANs) of a peer certificate as a TLS socket reports it. */
export function peerIdentities(cert: PeerCertificate | undefined): string[] {
  if (!cert) return [];
  const cn = cert.subject?.CN as string | string[] | undefined;
  const cns = cn === undefined ? [] : Array.isArray(cn) ? cn : [cn];
  return [...new Set([...cns, ...altNames(cert.subjectaltname)])];
}

/**
 * Whether any of `names` matches any pattern: exact, or `*.suffix` matching one or more labels before
 * `.suffix` (e.g. `*.kvs.default.svc` matches `kvs-0.kvs.default.svc`).
 */
export function identityMatches(names: readonly string[], patterns: readonly string[]): boolean {
  for (const p of patterns) {
    for (const n of names) {
      if (p === n) return true;
      if (p.startsWith('*.') && n.length > p.length - 1 && n.endsWith(p.slice(1))) return true;
    }
  }
  return false;
}

function readSource(src: PemSource, label: string): Buffer {
  if (Buffer.isBuffer(src)) return src;
  try {
    return readFileSync(src);
  } catch (e) {
    throw new TlsConfigError(`${label}: cannot read ${src}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function checkValidity(c: X509Certificate, label: string, now: number): void {
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  const subject = c.subject.replace(/\n/g, ', ');
  if (now > to) throw new TlsConfigError(`${label}: certificate ${subject} expired at ${new Date(to).toISOString()}`);
  if (now < from) throw new TlsConfigError(`${label}: certificate ${subject} is not valid before ${new Date(from).toISOString()}`);
}

/** Whether the leaf (chain[0]) leads to a CA of the bundle, possibly through intermediates of its chain. */
function signedByBundle(chain: X509Certificate[], cas: X509Certificate[]): boolean {
  let cur = chain[0]!;
  for (let hops = 0; hops <= chain.length; hops++) {
    if (cas.some((a) => cur.checkIssued(a) && cur.verify(a.publicKey))) return true;
    const next = chain.find((c) => c !== cur && cur.checkIssued(c) && cur.verify(c.publicKey));
    if (next === undefined) return false;
    cur = next;
  }
  return false;
}

/** Reads and validates a set of sources; throws TlsConfigError naming the source and the reason. */
export function loadTlsMaterial(src: TlsSources, opts: LoadOptions = {}): TlsMaterial {
  const now = opts.now ?? Date.now();
  const label = { ca: src.labels?.ca ?? 'ca', cert: src.labels?.cert ?? 'cert', key: src.labels?.key ?? 'key' };
  if ((src.cert === undefined) !== (src.key === undefined)) throw new TlsConfigError(`${label.cert} and ${label.key} go together: give both or neither`);
  if (opts.requireCert && src.cert === undefined) throw new TlsConfigError(`${label.cert} and ${label.key} are required`);
  const ca = readSource(src.ca, label.ca);
  const caCerts = parseCertificates(ca, label.ca);
  for (const c of caCerts) checkValidity(c, label.ca, now);
  let cert: Buffer | undefined;
  let key: Buffer | undefined;
  let leaf: X509Certificate | undefined;
  if (src.cert !== undefined && src.key !== undefined) {
    cert = readSource(src.cert, label.cert);
    key = readSource(src.key, label.key);
    const chain = parseCertificates(cert, label.cert);
    leaf = chain[0]!;
    checkValidity(leaf, label.cert, now);
    let privateKey;
    try {
      privateKey = createPrivateKey(key);
    } catch (e) {
      throw new TlsConfigError(`${label.key}: not a usable PEM private key (an encrypted key is not supported): ${(e as Error).message}`);
    }
    if (!leaf.checkPrivateKey(privateKey)) throw new TlsConfigError(`${label.key}: the private key does not belong to the certificate of ${label.cert} (${infoOf(leaf).subject})`);
    if (opts.requireTrustedCert) {
      // The leaf, or an intermediate it carries, must be signed by a CA of the bundle.
      if (!signedByBundle(chain, caCerts)) {
        throw new TlsConfigError(
          `${label.cert}: certificate ${infoOf(leaf).subject} (issuer ${infoOf(leaf).issuer}) is not signed by a CA of ${label.ca} (${caCerts.map((c) => infoOf(c).subject).join('; ')}); peers would refuse it`,
        );
      }
    }
  }
  try {
    createSecureContext({ ca, ...(cert ? { cert, key } : {}) });
  } catch (e) {
    throw new TlsConfigError(`${label.cert}: unusable TLS material: ${(e as Error).message}`);
  }
  return { ca, cert, key, leaf: leaf ? infoOf(leaf) : undefined, caCerts: caCerts.map(infoOf) };
}

export interface ReloadingTlsOptions extends LoadOptions {
  sources: TlsSources;
  logger?: Logger;
  /** How often watched files are checked for changes (default 5 s; 0 = never). */
  pollMs?: number;
  /** What these credentials serve, for the logs (e.g. 'node', 'kvsctl'). */
  role?: string;
}

export interface ServerCredentialsOptions {
  /**
   * Runs first on every call of these credentials and MUST refuse calls whose connection has no
   * verified client certificate (server/authz.ts): the handshake itself does not refuse them.
   */
  authorizer: grpc.ServerInterceptor;
}

export interface ChannelCredentialsOptions {
  /** Verify the server certificate against this name instead of the dialed host (e.g. dialing a pod IP). */
  serverName?: string;
}

type CaListener = (u: { caCertificate: Buffer } | null) => void;
type IdentityListener = (u: { certificate: Buffer; privateKey: Buffer } | null) => void;

/**
 * TLS material that follows its files. Implements grpc-js's CertificateProvider, so channel credentials
 * built on it pick up a rotation on their next connection; server credentials are told on reload.
 */
export class ReloadingTls {
  private material: TlsMaterial;
  private signature: string;
  private failedSignature: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly reloadListeners = new Set<(m: TlsMaterial) => void>();
  private expiryReported = '';
  /** Successful reloads since start (tests, logs). */
  reloads = 0;

  constructor(private readonly opts: ReloadingTlsOptions) {
    this.signature = this.fileSignature();
    this.material = loadTlsMaterial(opts.sources, opts);
    const pollMs = opts.pollMs ?? 5000;
    if (pollMs > 0 && this.paths().length > 0) {
      this.timer = setInterval(() => this.check(), pollMs);
      this.timer.unref();
    }
    const leaf = this.material.leaf;
    opts.logger?.info('tls enabled', { role: opts.role, subject: leaf?.subject, identities: leaf?.identities, notAfter: leaf?.notAfter, fingerprint256: leaf?.fingerprint256, ca: this.material.caCerts.map((c) => c.subject), pollMs });
  }

  /** The material in force. */
  get current(): TlsMaterial {
    return this.material;
  }

  private paths(): string[] {
    const s = this.opts.sources;
    return [s.ca, s.cert, s.key].filter((x): x is string => typeof x === 'string');
  }

  private fileSignature(): string {
    return this.paths()
      .map((p) => {
        try {
          const st = statSync(p);
          return `${st.ino}:${st.size}:${st.mtimeMs}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
  }

  /** Calls `cb` after every successful reload. */
  onReload(cb: (m: TlsMaterial) => void): () => void {
    this.reloadListeners.add(cb);
    return () => this.reloadListeners.delete(cb);
  }

  /**
   * Checks the files now (the timer calls this): reloads when they changed and validate. Returns true
   * when new material took effect.
   */
  check(): boolean {
    this.reportExpiry();
    const sig = this.fileSignature();
    if (sig === this.signature || sig === this.failedSignature) return false;
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(this.opts.sources, this.opts);
    } catch (e) {
      // Keep serving with the previous material; a rotation written in several steps succeeds on the
      // check after its last step.
      this.failedSignature = sig;
      this.opts.logger?.error('tls files changed but cannot be used: keeping the previous certificate', { role: this.opts.role, err: (e as Error).message, current: this.material.leaf?.subject, notAfter: this.material.leaf?.notAfter });
      return false;
    }
    this.signature = sig;
    this.failedSignature = undefined;
    const prev = this.material.leaf;
    this.material = next;
    this.reloads++;
    this.opts.logger?.info('tls certificate reloaded', { role: this.opts.role, subject: next.leaf?.subject, notAfter: next.leaf?.notAfter, fingerprint256: next.leaf?.fingerprint256, previous: prev?.fingerprint256 });
    for (const l of this.caListeners) l({ caCertificate: next.ca });
    if (next.cert && next.key) for (const l of this.identityListeners) l({ certificate: next.cert, privateKey: next.key });
    for (const l of this.reloadListeners) l(next);
    return true;
  }

  /** One error line when the certificate in force has expired (peers and clients refuse it from then on). */
  private reportExpiry(): void {
    const leaf = this.material.leaf;
    if (!leaf || this.expiryReported === leaf.fingerprint256) return;
    if (Date.now() > Date.parse(leaf.notAfter)) {
      this.expiryReported = leaf.fingerprint256;
      this.opts.logger?.error('tls certificate in use has expired: peers and clients refuse it until the files are rotated', { role: this.opts.role, subject: leaf.subject, notAfter: leaf.notAfter });
    }
  }

  /** Secure-context options of the current material. */
  contextOptions(): SecureContextOptions {
    const m = this.material;
    return { ca: m.ca, ...(m.cert && m.key ? { cert: m.cert, key: m.key } : {}) };
  }

  // ---- grpc-js CertificateProvider (experimental API): the current material at once, then on reload.
  addCaCertificateListener(l: CaListener): void {
    this.caListeners.add(l);
    l({ caCertificate: this.material.ca });
  }
  removeCaCertificateListener(l: CaListener): void {
    this.caListeners.delete(l);
  }
  addIdentityCertificateListener(l: IdentityListener): void {
    this.identityListeners.add(l);
    const m = this.material;
    l(m.cert && m.key ? { certificate: m.cert, privateKey: m.key } : null);
  }
  removeIdentityCertificateListener(l: IdentityListener): void {
    this.identityListeners.delete(l);
  }

  /** Credentials of a server: client certificates required and verified against the trusted CA. */
  serverCredentials(o: ServerCredentialsOptions): grpc.ServerCredentials {
    if (!this.material.cert) throw new TlsConfigError('a server needs a certificate and a key');
    return new ReloadingServerCredentials(this, [o.authorizer]);
  }

  /** Credentials of a client channel: verifies the server against the trusted CA, presents our certificate. */
  channelCredentials(o: ChannelCredentialsOptions = {}): grpc.ChannelCredentials {
    const verify = o.serverName !== undefined ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(o.serverName!, cert) } : {};
    return grpc.experimental.createCertificateProviderChannelCredentials(this, this.material.cert ? this : null, verify);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** grpc-js server credentials whose secure context follows a ReloadingTls. */
class ReloadingServerCredentials extends grpc.ServerCredentials {
  constructor(
    tls: ReloadingTls,
    private readonly interceptors: grpc.ServerInterceptor[],
  ) {
    super({ requestCert: true, rejectUnauthorized: false }, tls.contextOptions());
    // grpc-js calls setSecureContext on every http2 server bound with these credentials.
    tls.onReload(() => this.updateSecureContextOptions(tls.contextOptions()));
  }
  override _getInterceptors(): grpc.ServerInterceptor[] {
    return this.interceptors;
  }
  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

const VERIFY_REASONS: Record<string, string> = {
  UNABLE_TO_GET_ISSUER_CERT: 'no client certificate presented',
  CERT_HAS_EXPIRED: 'client certificate has expired',
  CERT_NOT_YET_VALID: 'client certificate is not valid yet',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'client certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'client certificate is not signed by a trusted CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'client certificate is not signed by a trusted CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'client certificate is self-signed, not signed by a trusted CA',
  CERT_SIGNATURE_FAILURE: 'client certificate signature is invalid',
  INVALID_PURPOSE: 'client certificate is not for client authentication (extended key usage)',
  CERT_REVOKED: 'client certificate is revoked',
};

/** Handshake failures as operators read them. */
function handshakeReason(err: Error & { code?: string }): string {
  if (err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || err.code === 'ERR_SSL_HTTP_REQUEST') return 'not a TLS client (plaintext connection to a TLS port?)';
  const alert = /alert ([a-z ]+)/i.exec(err.message)?.[1];
  if (alert) return `the client refused this server's certificate (TLS alert: ${alert.trim()})`;
  return err.message.split(':').slice(-2).join(':').trim() || err.message;
}

interface TlsSocketLike extends EventEmitter {
  authorized?: boolean;
  authorizationError?: Error | string | null;
  remoteAddress?: string;
  remotePort?: number;
  getPeerCertificate?: () => PeerCertificate;
}

/**
 * Watches the TLS servers under grpc.Servers: records why a connection's client certificate was not
 * verified (for the authorizer's UNAUTHENTICATED message, keyed by the remote address as grpc-js's
 * ServerInterceptingCall.getConnectionInfo() reports it) and logs refused connections and failed
 * handshakes, at most one line per remote host and reason every 30 s. grpc-js keeps its http2 servers
 * private (and only traces these events), hence the one access to its internals here.
 */
export class TlsConnectionObserver {
  private readonly reasons = new Map<string, string>();
  private readonly plaintext = new Set<string>();
  private readonly lastLogged = new Map<string, number>();

  /** A plaintext connection accepted by a dual (transition) listener (server/listen.ts). */
  notePlaintext(socket: { remoteAddress?: string; remotePort?: number; once(ev: 'close', cb: () => void): unknown }): void {
    const key = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
    this.plaintext.add(key);
    socket.once('close', () => this.plaintext.delete(key));
  }

  /** Whether the connection from `remote` came in without TLS through a transition listener. */
  isPlaintext(remoteAddress: string | undefined, remotePort: number | undefined): boolean {
    return this.plaintext.has(`${remoteAddress ?? ''}:${remotePort ?? 0}`);
  }

  constructor(private readonly logger: Logger) {}

  /** Call after bindAsync of `server`. */
  attach(server: grpc.Server, service: string): void {
    const servers = (server as unknown as { http2Servers?: Map<EventEmitter, unknown> }).http2Servers;
    if (!(servers instanceof Map)) {
      this.logger.warn('cannot observe TLS connections: refusals carry no reason (grpc-js internals changed)', { service });
      return;
    }
    for (const s of servers.keys()) {
      if ((s as unknown as Record<symbol, boolean>)[OBSERVED]) continue;
      (s as unknown as Record<symbol, boolean>)[OBSERVED] = true;
      s.on('secureConnection', (socket: TlsSocketLike) => {
        if (socket.authorized) return;
        const code = typeof socket.authorizationError === 'string' ? socket.authorizationError : ((socket.authorizationError as { code?: string } | null | undefined)?.code ?? String(socket.authorizationError));
        const subject = peerIdentities(socket.getPeerCertificate?.());
        const reason = `${VERIFY_REASONS[code] ?? `client certificate not verified (${code})`}${subject.length > 0 ? ` [${subject.join(', ')}]` : ''}`;
        const key = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
        this.reasons.set(key, reason);
        socket.once('close', () => this.reasons.delete(key));
        this.log(service, socket, 'tls client refused: every call on this connection is answered UNAUTHENTICATED', reason, code);
      });
      s.on('tlsClientError', (err: Error & { code?: string }, socket: TlsSocketLike) => this.log(service, socket, 'tls handshake failed', handshakeReason(err), err.code));
    }
  }

  /** Why the connection from `remote` ("address:port") has no verified certificate, when known. */
  reasonFor(remoteAddress: string | undefined, remotePort: number | undefined): string | undefined {
    return this.reasons.get(`${remoteAddress ?? ''}:${remotePort ?? 0}`);
  }

  private log(service: string, socket: TlsSocketLike, msg: string, reason: string, code: string | undefined): void {
    const key = `${socket.remoteAddress ?? '?'}|${reason}`;
    const now = Date.now();
    if (now - (this.lastLogged.get(key) ?? 0) < 30_000) return;
    if (this.lastLogged.size > 1000) this.lastLogged.clear();
    this.lastLogged.set(key, now);
    this.logger.warn(msg, { service, remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`, reason, code });
  }
}

const OBSERVED = Symbol('kvs.tlsObserved');

let warningFiltered = false;
/**
 * grpc-js sets the TLS ServerName to the dialed host, and node warns (DEP0123) once per process when that
 * is an IP address (peers and nodes are often dialed by IP). Entry points call this to drop that one
 * warning; every other warning is still printed.
 */
export function quietIpServernameWarning(): void {
  if (warningFiltered) return;
  warningFiltered = true;
  const defaults = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => {
    if (w.code === 'DEP0123') return;
    for (const l of defaults) l(w);
  });
}

/** The `tls` option of the client library (KvClient, AdminClient). */
export interface ClientTlsOptions {
  /** CA bundle verifying the nodes: a file path (re-read when it changes) or PEM bytes. */
  ca: PemSource;
  /** Client certificate (nodes require one) and its key: file paths or PEM bytes. */
  cert?: PemSource;
  key?: PemSource;
  /** Verify the nodes' certificates against this name instead of the dialed host (e.g. dialing pod IPs). */
  serverName?: string;
  /** Labels of the sources in errors (kvsctl: --cacert, --cert, --key). */
  labels?: TlsSources['labels'];
}

/**
 * Channel credentials of a client: plaintext without `tls`; with it, validated material (a bad file is a
 * TlsConfigError at once, not a failed handshake later) reloaded when its files change. A ReloadingTls
 * may be passed to share one between clients (the caller closes it then).
 */
export function clientCredentials(tls: ClientTlsOptions | ReloadingTls | undefined, o: { serverName?: string } = {}): { credentials: grpc.ChannelCredentials; close(): void } {
  if (tls === undefined) return { credentials: grpc.credentials.createInsecure(), close: () => undefined };
  if (tls instanceof ReloadingTls) return { credentials: tls.channelCredentials(o), close: () => undefined };
  const sources: TlsSources = { ca: tls.ca, ...(tls.cert !== undefined ? { cert: tls.cert } : {}), ...(tls.key !== undefined ? { key: tls.key } : {}), ...(tls.labels ? { labels: tls.labels } : {}) };
  const r = new ReloadingTls({ sources, role: 'client' });
  const serverName = o.serverName ?? tls.serverName;
  return { credentials: r.channelCredentials(serverName !== undefined ? { serverName } : {}), close: () => r.close() };
}
