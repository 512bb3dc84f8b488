// Every panel query of the chart's Grafana dashboards, evaluated by a real Prometheus (Debian's
// `prometheus`, own TSDB in a temp dir, 127.0.0.1) that scrapes a local 3-node kvs cluster (real
// kvs-node processes) under a writing/reading client, plus a real operator metrics endpoint. A query
// fails the test when Prometheus does not parse it, or — for the node dashboards — when it returns no
// finite sample under load. The operator dashboard needs a Kubernetes API to have events: here its
// queries must parse and name only series the operator exports (non-emptiness: the Kubernetes e2e).
// The alert rules are loaded too, and every rule must evaluate without error on the real series.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KvClient } from '../../node/src/client/index.js';
import { OperatorMetrics, startHttp } from '../../operator/src/runtime/metrics.js';
import { ProcessCluster, collectLogsOnFailure, freePort, peersOf, raftIdOf, sleep, until } from '../helpers/cluster-process.js';
import { dashboards, expand, exported, families, promQuery } from './queries.js';
import { PROMETHEUS, RULES } from './tools.js';

describe('dashboards: every panel query against a real Prometheus scraping a 3-node cluster under load', function () {
  this.timeout(180_000);
  let cluster: ProcessCluster | undefined;
  let prom: ChildProcess | undefined;
  let promLog = '';
  let promUrl = '';
  let opServer: Server | undefined;
  let dir = '';
  let nodeFamilies = new Set<string>();
  let operatorFamilies = new Set<string>();

  const query = (q: string) => promQuery(promUrl, q);

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'kvs-dash-'));
    cluster = await ProcessCluster.start({
      size: 3,
      // A short GC lifetime so the GC panels see removed versions within the run.
      extraArgs: (self, all) => ['--raft-id', String(raftIdOf(self, all)), '--peers', peersOf(all), '--gc-lifetime', '1s'],
    });
    const operatorPort = await freePort();
    opServer = await startHttp(new OperatorMetrics(), { problems: () => [], ready: () => true }, `127.0.0.1:${operatorPort}`);
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
        rule_files: [RULES],
        scrape_configs: [
          // kvs_cluster as the chart's PodMonitor sets it on Kubernetes.
          { job_name: 'kvs', static_configs: [{ targets: cluster.nodes.map((n) => `${n.spec.host}:${n.spec.httpPort}`), labels: { kvs_cluster: 'local' } }] },
          { job_name: 'kvs-operator', static_configs: [{ targets: [`127.0.0.1:${operatorPort}`] }] },
        ],
      }),
    );
    prom = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (b: Buffer) => (promLog += b.toString()));
    prom.stderr!.on('data', (b: Buffer) => (promLog += b.toString()));
    await until('prometheus ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined), 30_000, 200).catch((e: Error) => {
      throw new Error(`${e.message}\n${promLog}`);
    });
    nodeFamilies = exported(await cluster.node(0).metrics());
    operatorFamilies = exported(await (await fetch(`http://127.0.0.1:${operatorPort}/metrics`)).text());
    await until('every target up', async () => {
      const r = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ health: string }> } };
      return r.data.activeTargets.length === 4 && r.data.activeTargets.every((t) => t.health === 'up') ? true : undefined;
    }, 30_000, 250);

    // Load: puts, overwrites and deletes (GC work), linearizable gets (ReadIndex), scans, batches,
    // transactions, over BatchStream and unary, and a few requests the node refuses (error panels).
    const endpoints = cluster.addresses;
    const stream = new KvClient({ endpoints });
    const unary = new KvClient({ endpoints, transport: 'unary' });
    const stopAt = Date.now() + 20_000;
    const worker = async (c: KvClient, w: number): Promise<void> => {
      for (let i = 0; Date.now() < stopAt; i++) {
        const k = `w${w}-${i % 50}`;
        await c.put(k, `v${i}`);
        await c.get(k);
        if (i % 5 === 0) await c.batch([{ op: 'put', key: `${k}-b`, value: 'x' }, { op: 'delete', key: `${k}-b` }]);
        if (i % 7 === 0) await c.scan({ start: `w${w}-`, limit: 10 });
        if (i % 11 === 0) await c.delete(k);
        if (i % 13 === 0)
          await c.txn(async (tx) => {
            await tx.get(k);
            void tx.put(k, 't'); // queued: a failure surfaces at commit
          });
        if (i % 17 === 0) await c.put('', 'refused').catch(() => undefined);
      }
    };
    await Promise.all([...Array.from({ length: 6 }, (_, w) => worker(stream, w)), ...Array.from({ length: 2 }, (_, w) => worker(unary, 100 + w))]);
    stream.close();
    unary.close();
    // Two more scrapes after the last request, still inside every 30 s rate window.
    await sleep(2_500);
  });

  after(async function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await new Promise((r) => prom!.once('exit', r));
    }
    await new Promise<void>((r) => (opServer ? opServer.close(() => r()) : r()));
    await cluster?.stopAll().catch(() => undefined);
    await cluster?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the dashboards are the four expected, each with panels and targets', () => {
    assert.deepEqual(dashboards.map((d) => d.uid), ['kvs-operator', 'kvs-overview', 'kvs-raft', 'kvs-storage']);
    for (const d of dashboards) assert.ok(d.panels.filter((p) => p.type !== 'row').every((p) => (p.targets?.length ?? 0) > 0), d.uid);
  });

  for (const d of dashboards) {
    const isOperator = d.uid === 'kvs-operator';
    it(`${d.uid}: every query parses and names only exported series${isOperator ? '' : ', and returns a finite sample for KvsCluster "local"'}`, async () => {
      const problems: string[] = [];
      for (const v of d.templating.list) {
        if (v.type !== 'query' || !v.query) continue;
        for (const f of families(v.query)) if (!nodeFamilies.has(f)) problems.push(`variable ${v.name}: ${f} not exported`);
      }
      let checked = 0;
      for (const p of d.panels) {
        for (const t of p.targets ?? []) {
          checked++;
          const where = `"${p.title}" ${t.refId}`;
          for (const f of families(t.expr)) if (!(isOperator ? operatorFamilies : nodeFamilies).has(f)) problems.push(`${where}: ${f} not exported`);
          const r = await query(expand(t.expr, 'local'));
          if (r.status !== 'success') {
            problems.push(`${where}: ${r.errorType}: ${r.error}`);
            continue;
          }
          if (isOperator) continue;
          const finite = (r.data?.result ?? []).filter((s) => Number.isFinite(Number(s.value[1])));
          if (finite.length === 0) problems.push(`${where}: no finite sample (${JSON.stringify(r.data?.result ?? []).slice(0, 200)}): ${expand(t.expr, 'local')}`);
        }
      }
      assert.ok(checked > 0);
      assert.deepEqual(problems, []);
    });
  }

  it('negative controls: another cluster selects nothing, and a broken expression does not parse', async () => {
    const overview = dashboards.find((d) => d.uid === 'kvs-overview')!;
    const expr = overview.panels.find((p) => p.title === 'Requests / s by method')!.targets![0]!.expr;
    const other = await query(expand(expr, 'no-such-cluster'));
    assert.equal(other.status, 'success');
    assert.deepEqual(other.data?.result, []);
    const broken = await query(expand(expr, 'local').replace('sum by (method)', 'sum by (method'));
    assert.equal(broken.status, 'error');
    assert.equal(broken.errorType, 'bad_data');
  });

  it('every alert rule evaluates on the real series without error; the cluster-health ones stay inactive', async () => {
    const r = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; state?: string }> }> } };
    const rules = r.data.groups.flatMap((g) => g.rules);
    assert.equal(rules.length, 9);
    assert.deepEqual(rules.filter((x) => x.health !== 'ok').map((x) => `${x.name}: ${x.health} ${x.lastError ?? ''}`), []);
    // Latency and disk alerts depend on the host (a busy shared machine, a full /tmp), not on the cluster.
    const hostDependent = new Set(['KvsProposalLatencyHigh', 'KvsApplyLatencyHigh', 'KvsDiskAlmostFull']);
    assert.deepEqual(rules.filter((x) => !hostDependent.has(x.name) && x.state !== 'inactive').map((x) => `${x.name}: ${x.state}`), []);
  });
});
