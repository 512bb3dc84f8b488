// Observability HTTP endpoint (node:http): /metrics (Prometheus text), /healthz (the process is alive and
// its event loop answers), /readyz (the store is open and serving: a status() call succeeds in time, the
// node is not shutting down, and every readiness condition it was started with holds — main.ts gives a
// replicated node "member of its group and a leader is known" (Peer.readiness); a single node has none).
// /readyz answers JSON: 200 {"ready":true}, 503 {"ready":false,"code":…,"reason":…} with a fixed code.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../common/logger.js';
import type { ServerMetrics } from './metrics.js';

export interface ReadinessCheck {
  /** Resolves when ready; rejects (or resolves a reason string) when not. */
  (): Promise<true | string>;
}

/** Why a node is not ready: a fixed code (stable for tooling) and a human reason. */
export interface NotReady {
  code: string;
  reason: string;
}

/** A synchronous readiness condition of one part of the node (e.g. its Raft group). */
export type ReadinessCondition = () => true | NotReady;

function checkConditions(conditions: readonly ReadinessCondition[]): true | NotReady {
  for (const c of conditions) {
    let r: true | NotReady;
    try {
      r = c();
    } catch (e) {
      r = { code: 'CHECK_FAILED', reason: e instanceof Error ? e.message : String(e) };
    }
    if (r !== true) return r;
  }
  return true;
}

export interface HttpServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpServer(opts: {
  host: string;
  port: number;
  metrics: ServerMetrics;
  ready: ReadinessCheck;
  /** More conditions /readyz requires (checked in order after `ready`; the first failing one answers). */
  conditions?: readonly ReadinessCondition[];
  logger: Logger;
  readyTimeoutMs?: number;
}): Promise<HttpServer> {
  const { metrics, ready, logger } = opts;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 2000;
  /** /readyz: `ready` (bounded by readyTimeoutMs), then every condition; the first failure answers 503. */
  const answerReadyz = async (res: http.ServerResponse): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`store did not answer within ${readyTimeoutMs} ms`), readyTimeoutMs);
    });
    let r: true | string;
    try {
      // Promise.resolve().then(ready): a check that throws synchronously becomes a reason, not a crash.
      r = await Promise.race([Promise.resolve().then(ready).catch((err: unknown) => (err instanceof Error ? err.message : String(err))), timeout]);
    } finally {
      clearTimeout(timer);
    }
    const verdict: true | NotReady = r === true ? checkConditions(opts.conditions ?? []) : { code: r === 'shutting down' ? 'SHUTTING_DOWN' : 'STORE_UNAVAILABLE', reason: r };
    const body = verdict === true ? { ready: true } : { ready: false, code: verdict.code, reason: verdict.reason };
    res.writeHead(verdict === true ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
  };
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    switch (url) {
      case '/metrics':
        metrics.render().then(
          ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body),
          (err: unknown) => {
            logger.warn('metrics rendering failed', { err: String(err) });
            res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
          },
        );
        return;
      case '/healthz':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      case '/readyz':
        // Every failure inside the check (a check that throws synchronously, a verdict that cannot be
        // rendered) still answers — a dropped promise here left the probe hanging and, as an unhandled
        // rejection, stopped the whole node (main.ts exits on one).
        answerReadyz(res).catch((err: unknown) => {
          logger.warn('readiness answer failed', { err: err instanceof Error ? err.message : String(err) });
          if (!res.headersSent) res.writeHead(503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ ready: false, code: 'CHECK_FAILED', reason: 'readiness check failed' })}\n`);
          else res.destroy();
        });
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found (try /metrics, /healthz, /readyz)\n');
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    address: `${host}:${addr.port}`,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
