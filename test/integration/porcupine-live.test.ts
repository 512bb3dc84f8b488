// Linearizability of a single kvs-node, checked by porcupine on recorded histories of concurrent
// get / put / compare-and-set clients (test/helpers/history-workload.ts):
//  1. with lost replies (half the clients behind a fault proxy that resets connections) and SIGSTOP
//     pauses — a short-deadline client sees timeouts, i.e. operations with unknown outcome;
//  2. across SIGKILL + restart of the node (acknowledged writes must survive, no stale reads after).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkLinearizable, porcupineBinary } from '../helpers/history-porcupine.js';
import { runRegisterWorkload } from '../helpers/history-workload.js';
import { Nemesis } from '../helpers/process-nemesis.js';
import { FaultProxy } from '../helpers/process-proxy.js';
import { prng, testSeed, useNode } from './support/fixture.js';

const CLIENTS = 6;

describe('linearizability (porcupine) of a single node', function () {
  this.timeout(300_000);
  const f = useNode();
  const proxies: FaultProxy[] = [];

  before(function () {
    porcupineBinary(); // build outside the measured part
  });
  after(async function () {
    await Promise.all(proxies.map((p) => p.close()));
  });

  const check = (name: string, ops: Parameters<typeof checkLinearizable>[0], extra: string): void => {
    const dir = join(process.cwd(), 'test', 'out', 'porcupine', name);
    mkdirSync(dir, { recursive: true });
    const r = checkLinearizable(ops, { dir, timeoutS: 60 });
    console.log(`      ${r.verdict}; ${extra}`);
    assert.equal(r.exitCode, 0, `${r.verdict}\nhistory: ${r.historyFile}${r.htmlFile ? `\nvisualization: ${r.htmlFile}` : ''}`);
  };

  it('lost replies and SIGSTOP pauses: the history is linearizable', async function () {
    const seed = testSeed('porcupine-pause');
    // Odd clients go through a proxy that loses ~2% of the response frames (the connection resets).
    const endpoints: string[][] = [];
    for (let c = 0; c < CLIENTS; c++) {
      if (c % 2 === 1) {
        const proxy = await FaultProxy.start(f.node.address, { random: prng(seed + c) });
        proxy.setReplyDropProbability(0.02);
        proxies.push(proxy);
        endpoints.push([proxy.address]);
      } else {
        endpoints.push([f.node.address]);
      }
    }
    const nemesis = new Nemesis({ nodes: [f.node], faults: ['pause'], seed, intervalMs: [500, 1500], durationMs: [400, 700], maxFaults: 2 });
    let events;
    const h = await runRegisterWorkload({
      endpointsFor: (c) => endpoints[c]!,
      clients: CLIENTS,
      keys: 4,
      opsPerClient: 150,
      timeLimitMs: 8000,
      seed,
      // Client 0 has a short deadline: its calls time out while the node is paused (outcome unknown).
      clientOptions: (c) => (c === 0 ? { timeoutMs: 250, attemptTimeoutMs: 250 } : {}),
    }).finally(async () => {
      events = await nemesis.stop();
    });
    const resets = proxies.reduce((n, p) => n + p.stats.resets, 0);
    assert.ok(h.ops.length >= CLIENTS * 50, `history too short (${h.ops.length})`);
    check('pause', h.ops, `${resets} connection resets, nemesis ${JSON.stringify(events)}, recorder ${JSON.stringify(h.counts)}`);
  });

  it('SIGKILL + restart during the run: the history is linearizable', async function () {
    const seed = testSeed('porcupine-kill');
    const nemesis = new Nemesis({ nodes: [f.node], faults: ['kill'], seed, intervalMs: [700, 1500], durationMs: [50, 300], maxFaults: 3 });
    let events;
    const h = await runRegisterWorkload({
      endpointsFor: () => [f.node.address],
      clients: CLIENTS,
      keys: 4,
      opsPerClient: 200,
      timeLimitMs: 10_000,
      seed,
      keyPrefix: 'lin-kill/k',
      clientOptions: () => ({ timeoutMs: 8000 }),
    }).finally(async () => {
      events = await nemesis.stop();
    });
    assert.ok(h.ops.length >= CLIENTS * 20, `history too short (${h.ops.length})`);
    check('kill', h.ops, `nemesis ${JSON.stringify(events)}, recorder ${JSON.stringify(h.counts)}`);
  });
});
