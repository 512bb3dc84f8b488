// Linearizability of a single kvs-node: concurrent clients run get / put / compare-and-set on a few keys
// (some replies lost and retried through sessions); the recorded history is checked by porcupine.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { LostReplyInjector } from '../../node/src/client/index.js';
import { checkLinearizable, porcupineBinary } from '../helpers/history-porcupine.js';
import { HistoryRecorder } from '../helpers/history-recorder.js';
import { prng, testSeed, useNode } from './support/fixture.js';

const CLIENTS = 6;
const KEYS = 4;
const OPS_PER_CLIENT = 150;
const TIME_LIMIT_MS = 8000;

describe('linearizability (porcupine) of a single node', function () {
  this.timeout(300_000);
  const f = useNode();

  before(function () {
    porcupineBinary(); // build outside the measured part
  });

  it('get/put/cas history from concurrent clients is linearizable', async function () {
    const seed = testSeed('porcupine');
    const h = new HistoryRecorder();
    const deadline = Date.now() + TIME_LIMIT_MS;
    const client = async (c: number): Promise<void> => {
      const rand = prng(seed * 31 + c);
      const kv = f.client({ lostReplies: new LostReplyInjector({ probability: 0.05, methods: ['Put'], random: rand }), timeoutMs: 5000 });
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
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    const dir = join(process.cwd(), 'test', 'out', 'porcupine');
    mkdirSync(dir, { recursive: true });
    const r = checkLinearizable(h.ops, { dir, timeoutS: 60 });
    console.log(`      ${r.verdict}`);
    assert.ok(h.ops.length >= CLIENTS * 50, `history too short (${h.ops.length})`);
    assert.equal(r.exitCode, 0, `${r.verdict}\nhistory: ${r.historyFile}${r.htmlFile ? `\nvisualization: ${r.htmlFile}` : ''}`);
  });
});
