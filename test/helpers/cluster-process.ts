// Multi-process test clusters: spawns real `kvs-node` processes on 127.0.0.x with free ports and temp
// data dirs, waits for /readyz, and injects process faults (kill -9, SIGSTOP/SIGCONT, graceful stop,
// restart on the same data dir and ports). Node output goes to a log file per node; `collectLogs`
// copies them somewhere visible when a test fails.
//
// The binary is located relative to this compiled file (…/test/helpers/cluster-process.js →
// …/node/src/server/main.js), so tests run from dist/ start the node from dist/, and so on.
// KVS_NODE_BIN overrides it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_MAIN = process.env.KVS_NODE_BIN ?? fileURLToPath(new URL('../../node/src/server/main.js', import.meta.url));

/** Asks the kernel for a free TCP port on `host` (bind :0, read, close). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `--peers` of a cluster whose raft ids are 1..N in spec order. */
export const peersOf = (all: NodeSpec[]): string => all.map((s, i) => `${i + 1}=${s.host}:${s.grpcPort}`).join(',');

/** The raft id of `self` in a cluster built with peersOf (its 1-based position). */
export const raftIdOf = (self: NodeSpec, all: NodeSpec[]): number => all.findIndex((s) => s.nodeId === self.nodeId) + 1;

/** Polls `fn` until it returns a value (errors count as "not yet"); bounded by `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(stepMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

export interface NodeSpec {
  nodeId: string;
  host: string;
  grpcPort: number;
  httpPort: number;
  dataDir: string;
}

export interface NodeProcessOptions {
  nodeId?: string;
  /** Loopback address to bind (127.0.0.0/8 only). Default 127.0.0.1. */
  host?: string;
  grpcPort?: number;
  httpPort?: number;
  /** Data directory; default a fresh temp dir removed by `cleanup()`. */
  dataDir?: string;
  /** Directory for the log file; default next to the data dir. */
  logDir?: string;
  /** Extra command-line flags (e.g. peers for the Raft stage); may depend on the final spec. */
  extraArgs?: string[] | ((spec: NodeSpec) => string[]);
  env?: Record<string, string>;
  /** How long start()/restart() wait for /readyz. */
  readyTimeoutMs?: number;
  /** Node.js flags for the child (e.g. ['--max-old-space-size=256']). */
  nodeArgs?: string[];
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  // Never leave nodes behind when the test runner exits (even on a failed/aborted run)...
  process.on('exit', killAll);
  // ...or is terminated by a signal ('exit' does not run then): kill the nodes, then die of the signal.
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

function assertLoopback(host: string): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new Error(`refusing to bind ${host}: tests use 127.0.0.0/8 only`);
}

/** One kvs-node process (possibly restarted several times on the same data dir and ports). */
export class NodeProcess {
  readonly nodeId: string;
  readonly host: string;
  readonly dataDir: string;
  readonly logFile: string;
  grpcPort = 0;
  httpPort = 0;
  /** How many times the process was started. */
  starts = 0;
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exited: Promise<ExitInfo> | undefined;
  private lastExit: ExitInfo | undefined;
  private readonly ownsDataDir: boolean;
  private readonly baseDir: string;
  private paused = false;

  constructor(private readonly opts: NodeProcessOptions = {}) {
    this.nodeId = opts.nodeId ?? 'n1';
    this.host = opts.host ?? '127.0.0.1';
    assertLoopback(this.host);
    this.baseDir = mkdtempSync(join(tmpdir(), `kvs-${this.nodeId}-`));
    this.ownsDataDir = opts.dataDir === undefined;
    this.dataDir = opts.dataDir ?? join(this.baseDir, 'data');
    mkdirSync(this.dataDir, { recursive: true });
    const logDir = opts.logDir ?? this.baseDir;
    mkdirSync(logDir, { recursive: true });
    this.logFile = join(logDir, `${this.nodeId}.log`);
    if (opts.grpcPort) this.grpcPort = opts.grpcPort;
    if (opts.httpPort) this.httpPort = opts.httpPort;
  }

  get spec(): NodeSpec {
    return { nodeId: this.nodeId, host: this.host, grpcPort: this.grpcPort, httpPort: this.httpPort, dataDir: this.dataDir };
  }
  /** host:port of the gRPC API. */
  get address(): string {
    return `${this.host}:${this.grpcPort}`;
  }
  get httpUrl(): string {
    return `http://${this.host}:${this.httpPort}`;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  get running(): boolean {
    return this.child !== undefined && this.lastExit === undefined;
  }
  get exitInfo(): ExitInfo | undefined {
    return this.lastExit;
  }

  /** Picks ports (once: restarts keep them, as Raft peers would expect). */
  async allocatePorts(): Promise<void> {
    if (!this.grpcPort) this.grpcPort = await freePort(this.host);
    if (!this.httpPort) {
      do this.httpPort = await freePort(this.host);
      while (this.httpPort === this.grpcPort);
    }
  }

  /**
   * Spawns the process and waits until /readyz answers 200. On the first start with kernel-chosen ports,
   * a port taken by someone else between allocation and bind is retried with fresh ports (twice).
   */
  async start(): Promise<void> {
    const autoPorts = this.starts === 0 && !this.opts.grpcPort && !this.opts.httpPort;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (e) {
        if (!autoPorts || attempt >= 3 || !/EADDRINUSE|address already in use/i.test((e as Error).message)) throw e;
        this.log?.write(`==== [harness] port collision, retrying with new ports\n`);
        this.starts--;
        this.grpcPort = 0;
        this.httpPort = 0;
      }
    }
  }

  private async startOnce(): Promise<void> {
    if (this.running) throw new Error(`${this.nodeId} is already running (pid ${this.pid})`);
    if (!existsSync(NODE_MAIN)) throw new Error(`kvs-node binary not found at ${NODE_MAIN} (build first)`);
    await this.allocatePorts();
    installExitHook();
    this.starts++;
    const extra = typeof this.opts.extraArgs === 'function' ? this.opts.extraArgs(this.spec) : (this.opts.extraArgs ?? []);
    const args = [
      ...(this.opts.nodeArgs ?? []),
      NODE_MAIN,
      '--listen',
      this.address,
      '--http',
      `${this.host}:${this.httpPort}`,
      '--data-dir',
      this.dataDir,
      '--node-id',
      this.nodeId,
      ...extra,
    ];
    this.log ??= createWriteStream(this.logFile, { flags: 'a' });
    this.log.write(`\n==== [harness ${new Date().toISOString()}] start #${this.starts}: node ${args.join(' ')}\n`);
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KVS_LOG_LEVEL: process.env.KVS_LOG_LEVEL ?? 'info', ...this.opts.env },
    });
    this.child = child;
    this.lastExit = undefined;
    this.paused = false;
    live.add(child);
    const log = this.log;
    child.stdout?.on('data', (d: Buffer) => log.write(d));
    child.stderr?.on('data', (d: Buffer) => log.write(d));
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        const info = { code, signal };
        if (this.child === child) this.lastExit = info;
        log.write(`==== [harness ${new Date().toISOString()}] pid ${child.pid} exited code=${code} signal=${signal}\n`);
        resolve(info);
      });
    });
    await this.waitReady(this.opts.readyTimeoutMs ?? 20_000);
  }

  /**
   * Polls /readyz until 200 — or, unless `strict`, until it answers 503 with a Raft-level code (the
   * process serves; its group has no leader yet or it waits to be added): a node restarted while its
   * group lacks a quorum, or a joining node, must count as started. Fails early (with the log tail)
   * if the process exits.
   */
  async waitReady(timeoutMs = 20_000, opts: { strict?: boolean } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.lastExit) {
        throw new Error(`${this.nodeId} exited before ready (code=${this.lastExit.code} signal=${this.lastExit.signal})\n${this.logTail()}`);
      }
      try {
        const res = await fetch(`${this.httpUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return;
        const body = await res.text();
        last = `HTTP ${res.status} ${body.trim()}`;
        if (!opts.strict && res.status === 503 && /"code":"RAFT_(NO_LEADER|NOT_MEMBER|IDENTITY_REFUSED)"/.test(body)) return;
      } catch (e) {
        last = (e as Error).message;
      }
      await sleep(50);
    }
    throw new Error(`${this.nodeId} not ready after ${timeoutMs} ms (${last})\n${this.logTail()}`);
  }

  /** One /readyz answer: status and the JSON body ({ready, code?, reason?}). */
  async readyz(): Promise<{ status: number; ready: boolean; code?: string; reason?: string }> {
    const res = await fetch(`${this.httpUrl}/readyz`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { ready: boolean; code?: string; reason?: string };
    return { status: res.status, ...body };
  }

  async healthz(): Promise<boolean> {
    try {
      const res = await fetch(`${this.httpUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  async metrics(): Promise<string> {
    const res = await fetch(`${this.httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.text();
  }

  private signal(sig: NodeJS.Signals): void {
    if (!this.running || !this.child) throw new Error(`${this.nodeId} is not running`);
    this.log?.write(`==== [harness ${new Date().toISOString()}] sending ${sig} to pid ${this.child.pid}\n`);
    this.child.kill(sig);
  }

  /** SIGKILL and wait for the exit. */
  async kill9(): Promise<ExitInfo> {
    if (!this.running) return this.lastExit ?? { code: null, signal: null };
    this.signal('SIGKILL');
    return this.exited!;
  }

  /** SIGSTOP: the process stays alive but stops answering (a "gray" failure). */
  pause(): void {
    this.signal('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.signal('SIGCONT');
    this.paused = false;
  }

  /** SIGTERM and wait; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<ExitInfo> {
    if (!this.running) return this.lastExit ?? { code: null, signal: null };
    if (this.paused) this.resume();
    this.signal('SIGTERM');
    const timer = sleep(timeoutMs).then(() => 'timeout' as const);
    const r = await Promise.race([this.exited!, timer]);
    if (r === 'timeout') {
      this.log?.write(`==== [harness] graceful stop timed out after ${timeoutMs} ms\n`);
      return this.kill9();
    }
    return r;
  }

  /** Empties the data dir (the process must not be running): a lost disk, for restarting "wiped". */
  wipeDataDir(): void {
    if (this.running) throw new Error(`${this.nodeId} is running: stop it before wiping its data dir`);
    this.log?.write(`==== [harness ${new Date().toISOString()}] data dir ${this.dataDir} wiped\n`);
    rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true });
  }

  /** Starts again on the same data dir and ports (after kill9/stop). */
  /** Environment added to the process from its next start/restart on (e.g. a test failpoint). */
  setEnv(env: Record<string, string>): void {
    this.opts.env = { ...(this.opts.env ?? {}), ...env };
  }

  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.start();
  }

  /** The last `lines` lines of the log file. */
  logTail(lines = 40): string {
    try {
      const all = readFileSync(this.logFile, 'utf8').split('\n');
      return all.slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Copies the log file into `dir` (e.g. when a test failed); returns the new path. */
  collectLogs(dir: string): string {
    mkdirSync(dir, { recursive: true });
    const dest = join(dir, `${this.nodeId}.log`);
    if (existsSync(this.logFile)) copyFileSync(this.logFile, dest);
    return dest;
  }

  /** Kills the process (if running) and removes temp files it owns. */
  async cleanup(opts: { keepFiles?: boolean } = {}): Promise<void> {
    await this.kill9();
    await new Promise<void>((r) => (this.log ? this.log.end(r) : r()));
    this.log = undefined;
    if (!opts.keepFiles) {
      if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
      rmSync(this.baseDir, { recursive: true, force: true });
    }
  }
}

export interface ClusterOptions extends Omit<NodeProcessOptions, 'nodeId' | 'host' | 'grpcPort' | 'httpPort' | 'dataDir' | 'extraArgs'> {
  size?: number;
  /** Third octet... default hosts are 127.0.0.(10+i). */
  hostOf?: (i: number) => string;
  /** Extra flags per node, given every node's spec (ports are allocated before any node starts). */
  extraArgs?: (self: NodeSpec, all: NodeSpec[]) => string[];
}

/** N nodes with stable ports, e.g. for the Raft stage (pass peers through `extraArgs`). */
export class ProcessCluster {
  readonly nodes: NodeProcess[];

  private constructor(nodes: NodeProcess[]) {
    this.nodes = nodes;
  }

  static async start(opts: ClusterOptions = {}): Promise<ProcessCluster> {
    const size = opts.size ?? 1;
    const hostOf = opts.hostOf ?? ((i: number) => `127.0.0.${10 + i}`);
    const nodes: NodeProcess[] = [];
    const specs: NodeSpec[] = [];
    for (let i = 0; i < size; i++) {
      const n = new NodeProcess({
        ...opts,
        nodeId: `n${i + 1}`,
        host: hostOf(i),
        extraArgs: opts.extraArgs ? (self) => opts.extraArgs!(self, specs) : undefined,
      });
      await n.allocatePorts();
      nodes.push(n);
      specs.push(n.spec);
    }
    const cluster = new ProcessCluster(nodes);
    try {
      await Promise.all(nodes.map((n) => n.start()));
    } catch (e) {
      await cluster.cleanup({ keepFiles: true });
      throw e;
    }
    return cluster;
  }

  get addresses(): string[] {
    return this.nodes.map((n) => n.address);
  }

  node(i: number): NodeProcess {
    const n = this.nodes[i];
    if (!n) throw new Error(`no node ${i}`);
    return n;
  }

  collectLogs(dir: string): string[] {
    return this.nodes.map((n) => n.collectLogs(dir));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  async cleanup(opts: { keepFiles?: boolean } = {}): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.cleanup(opts)));
  }
}

/**
 * For mocha `afterEach`: when the current test failed, copies node logs to test/out/<title>/
 * (relative to the working directory) and returns the paths so the caller can print them.
 */
export function collectLogsOnFailure(ctx: Mocha.Context, nodes: Array<NodeProcess | undefined>): string[] {
  const t = ctx.currentTest;
  if (!t || t.state !== 'failed') return [];
  const dir = join(process.cwd(), 'test', 'out', t.fullTitle().replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120));
  const paths = nodes.filter((n): n is NodeProcess => n !== undefined).map((n) => n.collectLogs(dir));
  if (paths.length) console.error(`    node logs of the failed test: ${dir}`);
  return paths;
}

export interface RaftClusterOptions {
  size?: number;
  /** Flags added to each node's. */
  extra?: string[];
  env?: Record<string, string>;
}

/** `size` (default 3) stores at 127.0.0.(hostBase + i), each started with every peer (--raft-id, --peers). */
export function startRaftCluster(hostBase: number, opts: RaftClusterOptions = {}): Promise<ProcessCluster> {
  return ProcessCluster.start({
    size: opts.size ?? 3,
    hostOf: (i) => `127.0.0.${hostBase + i}`,
    ...(opts.env !== undefined ? { env: opts.env } : {}),
    extraArgs: (self, all) => ['--raft-id', String(raftIdOf(self, all)), '--peers', peersOf(all), ...(opts.extra ?? [])],
  });
}

/**
 * A Raft cluster for one mocha suite: `size` stores at 127.0.0.(hostBase + i), each given every peer,
 * started before the suite (startRaftCluster), logs of a failed test collected, cleaned up after.
 */
export function raftClusterForSuite(hostBase: number, opts: RaftClusterOptions = {}): { readonly cluster: ProcessCluster } {
  let started: ProcessCluster | undefined;
  before(async function () {
    started = await startRaftCluster(hostBase, opts);
  });
  afterEach(function () {
    collectLogsOnFailure(this, started?.nodes ?? []);
  });
  after(async function () {
    await started?.cleanup();
  });
  return {
    get cluster(): ProcessCluster {
      if (started === undefined) throw new Error('the suite cluster is not started (before() failed?)');
      return started;
    },
  };
}
