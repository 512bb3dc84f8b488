// Observability HTTP endpoint (node:http): /metrics (Prometheus text), /healthz (the process is alive and
// its event loop answers), /readyz (the store is open and serving: a status() call succeeds in time and the
// node is not shutting down).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../common/logger.js';
import type { ServerMetrics } from './metrics.js';

export interface ReadinessCheck {
  /** Resolves when ready; rejects (or resolves a reason string) when not. */
  (): Promise<true | string>;
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
  logger: Logger;
  readyTimeoutMs?: number;
}): Promise<HttpServer> {
  const { metrics, ready, logger } = opts;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 2000;
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
      case '/readyz': {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve(`store did not answer within ${readyTimeoutMs} ms`), readyTimeoutMs);
        });
        Promise.race([ready().catch((err: unknown) => (err instanceof Error ? err.message : String(err))), timeout]).then((r) => {
          clearTimeout(timer);
          if (r === true) res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');
          else res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${r}\n`);
        });
        return;
      }
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
