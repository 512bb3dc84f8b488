// A fault-injecting TCP proxy in front of a node's gRPC port (127.0.0.0/8 only). It forwards bytes
// unchanged, but understands HTTP/2 framing on the reply direction, so it can lose replies *after the
// server processed the request*: when a response HEADERS/DATA frame of a stream arrives and a drop is
// due, the proxy resets both connections instead of forwarding it (every in-flight call on that
// connection fails with UNAVAILABLE; the client reconnects and retries). It can also black-hole traffic
// (block/unblock: a partition that keeps sockets open), silence the open connections (bytes dropped, no
// RST: a connection that died silently) and reset everything. Later, Raft tests put one
// between each pair of nodes.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './cluster-process.js';

const FRAME_HEADER = 9;
const DATA = 0x0;
const HEADERS = 0x1;

export interface FaultProxyOptions {
  /** Address to listen on (default 127.0.0.1, ephemeral port). */
  host?: string;
  port?: number;
  /** Random source for probabilistic drops (default Math.random). */
  random?: () => number;
}

interface Pair {
  client: Socket;
  server: Socket;
  /** Reply bytes not yet forwarded (partial frame). */
  pending: Buffer;
  dead: boolean;
  /** Bytes are discarded both ways while the sockets stay open (a connection that died silently). */
  silent: boolean;
}

export class FaultProxy {
  readonly stats = { connections: 0, resets: 0, replyFramesSeen: 0, partitions: 0, refused: 0 };
  private readonly pairs = new Set<Pair>();
  private dropNextN = 0;
  private dropProbability = 0;
  private blocked = false;
  private cut = false;
  private readonly heldWhileBlocked: Array<() => void> = [];
  private readonly random: () => number;

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
    private readonly target: { host: string; port: number },
    opts: FaultProxyOptions,
  ) {
    this.random = opts.random ?? Math.random;
  }

  /** Starts a proxy forwarding to `target` ("host:port"). */
  static async start(target: string, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
    const m = /^(.+):(\d+)$/.exec(target);
    if (!m) throw new Error(`bad target ${target}`);
    const host = opts.host ?? '127.0.0.1';
    if (!host.startsWith('127.')) throw new Error('the proxy binds 127.0.0.0/8 only');
    const port = opts.port ?? (await freePort(host));
    let proxy: FaultProxy | undefined;
    const server = createServer((client) => proxy!.accept(client));
    proxy = new FaultProxy(server, host, port, { host: m[1]!, port: Number(m[2]) }, opts);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return proxy;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Loses the next `n` replies (each loss resets the connection carrying it). */
  dropNextReplies(n: number): void {
    this.dropNextN = n;
  }

  /** Loses each reply with probability p. */
  setReplyDropProbability(p: number): void {
    this.dropProbability = p;
  }

  /** Stops forwarding in both directions (connections stay open; bytes are held, not lost). */
  block(): void {
    this.blocked = true;
  }

  unblock(): void {
    this.blocked = false;
    for (const release of this.heldWhileBlocked.splice(0)) release();
  }

  /**
   * A dropping partition of this link: every open connection is reset and new ones are closed as soon
   * as they are accepted, until `heal()` (bytes are lost, unlike `block()` which holds them).
   */
  partition(): void {
    this.cut = true;
    this.stats.partitions++;
    this.resetAll();
  }

  heal(): void {
    this.cut = false;
  }

  get partitioned(): boolean {
    return this.cut;
  }

  /**
   * The connections open now die silently: their bytes are discarded in both directions and nobody is
   * told (no RST, no FIN) — a NAT/conntrack entry that vanished. New connections work normally.
   */
  silenceOpenConnections(): void {
    for (const p of this.pairs) p.silent = true;
  }

  /** Resets every open connection. */
  resetAll(): void {
    for (const p of this.pairs) this.kill(p);
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    if (this.cut) {
      this.stats.refused++;
      client.on('error', () => undefined);
      client.destroy();
      return;
    }
    const server = connect({ host: this.target.host, port: this.target.port });
    const pair: Pair = { client, server, pending: Buffer.alloc(0), dead: false, silent: false };
    this.pairs.add(pair);
    client.setNoDelay(true);
    server.setNoDelay(true);
    const forward = (to: Socket, data: Buffer): void => {
      if (pair.dead || pair.silent) return;
      if (this.blocked) {
        // Hold the bytes until unblock (keeps the byte stream intact).
        this.heldWhileBlocked.push(() => forward(to, data));
        return;
      }
      to.write(data);
    };
    client.on('data', (d: Buffer) => forward(server, d));
    server.on('data', (d: Buffer) => {
      if (pair.dead || pair.silent) return;
      if (this.blocked) {
        this.heldWhileBlocked.push(() => this.onReply(pair, d, forward));
        return;
      }
      this.onReply(pair, d, forward);
    });
    const close = (): void => this.kill(pair);
    client.on('error', close);
    server.on('error', close);
    client.on('close', close);
    server.on('close', close);
  }

  /** Forwards whole HTTP/2 frames of the reply direction, deciding per response frame whether to drop. */
  private onReply(pair: Pair, data: Buffer, forward: (to: Socket, d: Buffer) => void): void {
    pair.pending = pair.pending.length ? Buffer.concat([pair.pending, data]) : data;
    let off = 0;
    while (pair.pending.length - off >= FRAME_HEADER) {
      const len = pair.pending.readUIntBE(off, 3);
      if (pair.pending.length - off < FRAME_HEADER + len) break;
      const type = pair.pending[off + 3]!;
      const stream = pair.pending.readUInt32BE(off + 5) & 0x7fffffff;
      if ((type === HEADERS || type === DATA) && stream > 0) {
        this.stats.replyFramesSeen++;
        if (this.shouldDrop()) {
          // Forward what came before, then cut the connection: this reply is lost.
          if (off > 0) forward(pair.client, pair.pending.subarray(0, off));
          this.stats.resets++;
          this.kill(pair);
          return;
        }
      }
      off += FRAME_HEADER + len;
    }
    if (off > 0) forward(pair.client, pair.pending.subarray(0, off));
    pair.pending = pair.pending.subarray(off);
  }

  private shouldDrop(): boolean {
    if (this.dropNextN > 0) {
      this.dropNextN--;
      return true;
    }
    return this.dropProbability > 0 && this.random() < this.dropProbability;
  }

  private kill(pair: Pair): void {
    if (pair.dead) return;
    pair.dead = true;
    this.pairs.delete(pair);
    pair.client.destroy();
    pair.server.destroy();
  }
}
