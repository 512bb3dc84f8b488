// Debian `etcd-server` members on loopback for side-by-side comparisons: 1 member, or 3 (or 5)
// members forming one cluster, each on its own 127.0.0.x address with free ports and a temp data dir.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from '../../test/helpers/cluster-process.js';

export interface EtcdMember {
  name: string;
  host: string;
  clientPort: number;
  peerPort: number;
  clientUrl: string;
  child?: ChildProcess;
}

export function etcdBinary(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function etcdVersion(bin: string): string {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return (r.stdout.split('\n')[0] ?? '').replace('etcd Version: ', '').trim();
}

/** Mutual TLS for clients and peers (files; etcd's --cert-file etc.). */
export interface EtcdTls {
  ca: string;
  cert: string;
  key: string;
}

export class EtcdCluster {
  readonly members: EtcdMember[] = [];
  private readonly dir: string;
  private initialCluster = '';

  private constructor(readonly bin: string, size: number, private readonly tls?: EtcdTls) {
    this.dir = mkdtempSync(join(tmpdir(), 'kvs-bench-etcd-'));
    for (let i = 0; i < size; i++) {
      this.members.push({ name: `e${i + 1}`, host: `127.0.0.${40 + i}`, clientPort: 0, peerPort: 0, clientUrl: '' });
    }
  }

  static async start(size = 1, bin = etcdBinary(), tls?: EtcdTls): Promise<EtcdCluster> {
    if (!bin) throw new Error('etcd not installed (apt-get install etcd-server)');
    const c = new EtcdCluster(bin, size, tls);
    const scheme = tls ? 'https' : 'http';
    for (const m of c.members) {
      m.clientPort = await freePort(m.host);
      m.peerPort = await freePort(m.host);
      m.clientUrl = `${scheme}://${m.host}:${m.clientPort}`;
    }
    c.initialCluster = c.members.map((m) => `${m.name}=${scheme}://${m.host}:${m.peerPort}`).join(',');
    for (const m of c.members) c.spawnMember(m);
    process.on('exit', () => c.members.forEach((m) => m.child?.kill('SIGKILL')));
    await c.waitHealthy(30_000);
    return c;
  }

  private spawnMember(m: EtcdMember): void {
    const log = createWriteStream(join(this.dir, `${m.name}.log`), { flags: 'a' });
    const scheme = this.tls ? 'https' : 'http';
    const t = this.tls;
    const tlsArgs = t
      ? ['--cert-file', t.cert, '--key-file', t.key, '--trusted-ca-file', t.ca, '--client-cert-auth',
         '--peer-cert-file', t.cert, '--peer-key-file', t.key, '--peer-trusted-ca-file', t.ca, '--peer-client-cert-auth']
      : [];
    const child = spawn(
      this.bin,
      [
        '--name', m.name,
        '--data-dir', join(this.dir, m.name),
        '--listen-client-urls', m.clientUrl,
        '--advertise-client-urls', m.clientUrl,
        '--listen-peer-urls', `${scheme}://${m.host}:${m.peerPort}`,
        '--initial-advertise-peer-urls', `${scheme}://${m.host}:${m.peerPort}`,
        '--initial-cluster', this.initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', `kvs-bench-${process.pid}`,
        '--listen-metrics-urls', '',
        ...tlsArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    m.child = child;
  }

  member(name: string): EtcdMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no etcd member ${name}`);
    return m;
  }

  /** SIGKILL one member and wait for its exit. */
  async kill9(name: string): Promise<void> {
    const m = this.member(name);
    const child = m.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Starts a killed member again on its data dir and waits until the cluster is healthy. */
  async restart(name: string, timeoutMs = 30_000): Promise<void> {
    this.spawnMember(this.member(name));
    await this.waitHealthy(timeoutMs);
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  get logDir(): string {
    return this.dir;
  }

  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const m of this.members) {
      for (;;) {
        if (m.child?.exitCode !== null && m.child?.exitCode !== undefined) throw new Error(`etcd ${m.name} exited (${m.child.exitCode}); logs in ${this.dir}`);
        try {
          if ((await this.health(m)) === 'true') break;
        } catch {
          /* not yet */
        }
        if (Date.now() > deadline) throw new Error(`etcd ${m.name} not healthy after ${timeoutMs} ms; logs in ${this.dir}`);
        await sleep(100);
      }
    }
  }

  /** GET /health of a member (https with the client certificate when TLS is on). */
  private async health(m: EtcdMember): Promise<string | undefined> {
    if (!this.tls) {
      const res = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
      return ((await res.json()) as { health?: string }).health;
    }
    const t = this.tls;
    return new Promise((resolve, reject) => {
      const req = httpsGet(`${m.clientUrl}/health`, { ca: readFileSync(t.ca), cert: readFileSync(t.cert), key: readFileSync(t.key), timeout: 1000 }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          try {
            resolve((JSON.parse(body) as { health?: string }).health);
          } catch (e) {
            reject(e as Error);
          }
        });
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
    });
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(
        (m) =>
          new Promise<void>((resolve) => {
            if (!m.child || m.child.exitCode !== null) return resolve();
            const t = setTimeout(() => m.child?.kill('SIGKILL'), 5000);
            m.child.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            m.child.kill('SIGTERM');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}
