// Binds a grpc.Server to host:port with a node's ServerSecurity. Normally grpc-js's own bindAsync.
// In TLS transition (--tls-transition) one port must accept TLS and plaintext alike — the peers and
// clients not yet moved dial the same address — so a net.Server takes the connections and hands each to
// one of two grpc-js connection injectors (TLS or plaintext) by its first byte: 0x16 starts every TLS
// handshake (a TLS record of type handshake), an HTTP/2 preface starts with 'P'.
import * as grpc from '@grpc/grpc-js';
import { createServer, type Socket } from 'node:net';
import type { ServerSecurity } from './authz.js';

const TLS_HANDSHAKE_RECORD = 0x16;

/** Binds `server`; resolves with the bound port. Calls security.attach once bound. */
export async function bindServer(server: grpc.Server, address: string, security: ServerSecurity, service: string, host: string, port: number): Promise<number> {
  if (!security.transition) {
    const bound = await new Promise<number>((resolve, reject) => server.bindAsync(address, security.credentials, (err, p) => (err ? reject(new Error(`cannot listen on ${address}${service === 'kv' ? '' : ` (${service})`}: ${err.message}`)) : resolve(p))));
    security.attach(server, service);
    return bound;
  }
  const observer = security.transition.observer;
  const tls = server.createConnectionInjector(security.credentials);
  const plain = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  /** Accepted sockets whose first byte has not arrived yet (not handed to grpc-js). */
  const pending = new Set<Socket>();
  const listener = createServer((socket) => {
    pending.add(socket);
    socket.once('close', () => pending.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (first: Buffer) => {
      pending.delete(socket);
      // Put the bytes back; the injected server reads them as if nothing had been consumed.
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE_RECORD) tls.injectConnection(socket);
      else {
        observer.notePlaintext(socket);
        plain.injectConnection(socket);
      }
    });
  });
  const bound = await new Promise<number>((resolve, reject) => {
    listener.once('error', (e) => reject(new Error(`cannot listen on ${address}${service === 'kv' ? '' : ` (${service})`}: ${e.message}`)));
    listener.listen({ host, port }, () => {
      const a = listener.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
  // The grpc.Server shuts its injected sessions down; the listener and not-yet-routed sockets are ours.
  const closeListener = () => {
    listener.close();
    for (const s of pending) s.destroy();
  };
  const tryShutdown = server.tryShutdown.bind(server);
  const forceShutdown = server.forceShutdown.bind(server);
  server.tryShutdown = (cb) => {
    closeListener();
    tryShutdown(cb);
  };
  server.forceShutdown = () => {
    closeListener();
    tls.destroy();
    plain.destroy();
    forceShutdown();
  };
  security.attach(server, service);
  return bound;
}
