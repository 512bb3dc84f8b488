// The kvs-node binary (spawned): listening line, serving, graceful shutdown on SIGTERM, persistence across
// restarts over the same data dir, configuration errors.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KvClient } from '../../../node/src/client/index.js';

const MAIN = fileURLToPath(new URL('../../../node/src/server/main.js', import.meta.url));

interface Started {
  proc: ChildProcess;
  info: { event: string; grpc: string; http: string | null; nodeId: string; pid: number };
  stderr: () => string;
  exited: Promise<number | null>;
}

function startNode(args: string[]): Promise<Started> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
    const rl = createInterface({ input: proc.stdout! });
    rl.once('line', (line) => {
      try {
        resolve({ proc, info: JSON.parse(line), stderr: () => err, exited });
      } catch (e) {
        reject(new Error(`bad first line ${line}: ${String(e)}`));
      }
    });
    void exited.then((code) => reject(new Error(`kvs-node exited with ${code} before listening: ${err}`)));
  });
}

function runNode(args: string[], env?: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('kvs-node binary', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'kvs-main-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves, reports health, stops gracefully on SIGTERM (exit 0), keeps data across restarts', async () => {
    const args = ['--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data-dir', dir, '--node-id', 'n1'];
    let n = await startNode(args);
    assert.equal(n.info.event, 'listening');
    assert.equal(n.info.nodeId, 'n1');
    assert.match(n.info.grpc, /^127\.0\.0\.1:\d+$/);
    const c = new KvClient({ endpoints: n.info.grpc });
    await c.put('persist', 'me');
    const h = await fetch(`http://${n.info.http}/healthz`);
    assert.equal(h.status, 200);
    const ready = await fetch(`http://${n.info.http}/readyz`);
    assert.equal(ready.status, 200);
    const metrics = await (await fetch(`http://${n.info.http}/metrics`)).text();
    assert.match(metrics, /^kvs_build_info\{version="[^"]+",node_id="n1"\} 1$/m);
    assert.match(metrics, /^kvs_requests_total\{method="Put",code="OK"\} 1$/m);
    c.close();
    n.proc.kill('SIGTERM');
    assert.equal(await n.exited, 0);
    assert.match(n.stderr(), /"message":"stopped"/);
    assert.ok(!n.stderr().includes('"me"'), 'values are never logged');

    n = await startNode(args);
    const c2 = new KvClient({ endpoints: n.info.grpc });
    assert.equal((await c2.get('persist')).value?.toString(), 'me');
    c2.close();
    n.proc.kill('SIGINT');
    assert.equal(await n.exited, 0);
  });

  it('--memory and --http off', async () => {
    const n = await startNode(['--listen', '127.0.0.1:0', '--http', 'off', '--memory', '--log-level', 'debug']);
    assert.equal(n.info.http, null);
    const c = new KvClient({ endpoints: n.info.grpc });
    await c.put('secret-key', 'secret-value');
    c.close();
    n.proc.kill('SIGTERM');
    assert.equal(await n.exited, 0);
    assert.match(n.stderr(), /"message":"request"/, 'debug logs each request');
    assert.ok(!n.stderr().includes('secret-value'), 'values are never logged');
    assert.ok(!n.stderr().includes('secret-key'), 'keys are not logged either (sizes only)');
  });

  it('configuration errors: exit 2 with a message naming the flag', async () => {
    let r = await runNode(['--listen', 'nonsense']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^kvs-node: --listen: malformed address "nonsense"/);
    r = await runNode(['--max-value-bytes', 'lots']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--max-value-bytes: malformed size "lots"/);
    r = await runNode(['--memory', '--listen', '127.0.0.1:0', '--http', 'off'], { KVS_V8_INTERRUPT_BUDGET: 'lots' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^kvs-node: KVS_V8_INTERRUPT_BUDGET must be a whole number of bytes .*got 'lots'/);
  });

  it('a busy port: exit 1 with a clear log line', async () => {
    const n = await startNode(['--listen', '127.0.0.1:0', '--http', 'off', '--memory']);
    const r = await runNode(['--listen', n.info.grpc, '--http', 'off', '--memory']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+/);
    n.proc.kill('SIGTERM');
    await n.exited;
  });
});
