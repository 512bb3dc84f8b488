// Linearizability of a single kvs-node: concurrent clients run get / put / compare-and-set on a few keys
// (some replies lost by a fault-injecting proxy and retried through sessions; the node SIGSTOPped twice,
// so a short-deadline client sees timeouts = operations with unknown outcome); the recorded history is checked by porcupine.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { FaultProxy } from '../helpers/process-proxy.js';
import { checkLinearizable, porcupineBinary } from '../helpers/history-porcupine.js';
import { HistoryRecorder } from '../helpers/history-recorder.js';
import { prng, sleep, testSeed, useNode } from './support/fixture.js';

const CLIENTS = 6;
const KEYS = 4;
const OPS_PER_CLIENT = 150;
const TIME_LIMIT_MS = 8000;

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

  it('get/put/cas history from concurrent clients is linearizable', async function () {
    const seed = testSeed('porcupine');
    const h = new HistoryRecorder();
    const deadline = Date.now() + TIME_LIMIT_MS;
    const client = async (c: number): Promise<void> => {
      const rand = prng(seed * 31 + c);
      // Half the clients go through a proxy that loses ~2% of the response frames (the connection resets).
      let endpoints = [f.node.address];
      if (c % 2 === 1) {
        const proxy = await FaultProxy.start(f.node.address, { random: rand });
        proxy.setReplyDropProbability(0.02);
        proxies.push(proxy);
        endpoints = [proxy.address];
      }
      // Client 0 has a short deadline: its calls time out while the node is paused (outcome unknown).
      const kv = f.client({ endpoints, timeoutMs: c === 0 ? 250 : 5000, attemptTimeoutMs: c === 0 ? 250 : 5000 });
      const lastSeen = new Map<string, string | undefined>();
      for (let n = 0; n < OPS_PER_CLIENT && Date.now() < deadline; n++) {
        const key = `lin/k${Math.floor(rand() * KEYS)}`;
        const r = rand();
        if (r < 0.45) {
          const out = await h.record(c, { op: 'get', key }, async () => {
            const g = await kv.get(key);
            return g.found ? { found: true, value: g.value!.toString() } : { found: false };
          });
          if (out) lastSeen.set(key, out.found ? out.value : undefined);
        } else if (r < 0.75) {
          const value = `c${c}-${n}`;
          await h.record(c, { op: 'put', key, value }, async () => {
            await kv.put(key, value);
            return { ok: true };
          });
        } else {
          const value = `c${c}-${n}`;
          const expected = lastSeen.get(key);
          const input = expected === undefined ? { op: 'cas' as const, key, value, expectAbsent: true } : { op: 'cas' as const, key, value, expected };
          await h.record(c, input, async () => {
            const p = await kv.put(key, value, expected === undefined ? { expectAbsent: true } : { expectedValue: expected });
            return { ok: p.succeeded };
          });
        }
      }
    };
    // Nemesis: SIGSTOP the node twice for 400-700 ms while the clients run.
    let running = true;
    const nemesis = (async () => {
      const rand = prng(seed);
      for (let i = 0; i < 2 && running; i++) {
        await sleep(500 + rand() * 1000);
        if (!running) break;
        f.node.pause();
        await sleep(400 + rand() * 300);
        f.node.resume();
      }
    })();
    try {
      await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    } finally {
      running = false;
      await nemesis;
    }
    const dir = join(process.cwd(), 'test', 'out', 'porcupine');
    mkdirSync(dir, { recursive: true });
    const r = checkLinearizable(h.ops, { dir, timeoutS: 60 });
    const resets = proxies.reduce((n, p) => n + p.stats.resets, 0);
    console.log(`      ${r.verdict}; ${resets} connection resets, recorder ${JSON.stringify(h.counts)}`);
    assert.ok(h.ops.length >= CLIENTS * 50, `history too short (${h.ops.length})`);
    assert.equal(r.exitCode, 0, `${r.verdict}\nhistory: ${r.historyFile}${r.htmlFile ? `\nvisualization: ${r.htmlFile}` : ''}`);
  });
});
