// Crash test: a node under concurrent put load is SIGKILLed at random moments (≥5 times) and restarted
// on the same data dir. Every write acknowledged before a kill must be readable with its value after
// the restart; writes whose reply never came may or may not be there. Per-writer counter keys also
// check that no key rolls back to an older acknowledged value, and per-writer 3-key batches that a batch
// is all-or-nothing across a crash (the three keys always carry the same generation).
import assert from 'node:assert/strict';
import { prng, sleep, testSeed, useNode } from './support/fixture.js';

const KILLS = 6;
const WRITERS = 12;
const MAX_OPS_PER_WRITER = 3000;

describe('crash recovery: kill -9 under write load', function () {
  this.timeout(180_000);
  const f = useNode();

  it(`keeps every acknowledged write across ${KILLS} SIGKILLs at random moments`, async function () {
    const seed = testSeed('crash');
    const rand = prng(seed);
    const node = f.node;
    // Writers: one attempt per put, no session, so an error means "outcome unknown" and nothing is retried behind our back.
    const writer = f.client({ sessions: false, maxAttempts: 1, timeoutMs: 2000, attemptTimeoutMs: 2000 });
    const reader = f.client({ timeoutMs: 20_000 });
    const acked = new Map<string, string>();
    const counters = Array.from({ length: WRITERS }, () => ({ lastAcked: -1, lastAttempted: -1 }));
    const groups = Array.from({ length: WRITERS }, () => ({ lastAcked: -1, lastAttempted: -1 }));
    let errors = 0;
    let stop = false;

    const writerLoop = async (w: number): Promise<void> => {
      for (let n = 0; n < MAX_OPS_PER_WRITER && !stop; n++) {
        const key = `crash/u/${String(w).padStart(2, '0')}/${String(n).padStart(5, '0')}`;
        const value = `v${n}-${seed}-${w}`;
        try {
          await writer.put(key, value);
          acked.set(key, value);
        } catch {
          errors++;
          await sleep(20);
        }
        const c = counters[w]!;
        c.lastAttempted = n;
        try {
          await writer.put(`crash/c/${w}`, String(n));
          c.lastAcked = n;
        } catch {
          errors++;
          await sleep(20);
        }
        if (n % 4 === 0) {
          const g = groups[w]!;
          g.lastAttempted = n;
          try {
            await writer.batch([0, 1, 2].map((j) => ({ op: 'put' as const, key: `crash/g/${w}/${j}`, value: String(n) })));
            g.lastAcked = n;
          } catch {
            errors++;
          }
        }
      }
    };

    const verify = async (label: string): Promise<void> => {
      const ackedBefore = new Map(acked);
      const counterFloor = counters.map((c) => c.lastAcked);
      const seen = new Map<string, string>();
      for (const kv of await reader.scanPrefix('crash/u/')) seen.set(kv.key.toString(), kv.value.toString());
      let missing = 0;
      let wrong = 0;
      const examples: string[] = [];
      for (const [k, v] of ackedBefore) {
        const got = seen.get(k);
        if (got === v) continue;
        if (got === undefined) missing++;
        else wrong++;
        if (examples.length < 5) examples.push(`${k}: want ${v}, got ${got ?? '<absent>'}`);
      }
      assert.equal(missing + wrong, 0, `${label}: ${missing} acknowledged writes lost, ${wrong} with a wrong value, e.g.\n${examples.join('\n')}`);
      for (let w = 0; w < WRITERS; w++) {
        const r = await reader.get(`crash/c/${w}`);
        const floor = counterFloor[w]!;
        if (floor < 0) continue;
        assert.ok(r.found, `${label}: counter ${w} lost (last acknowledged ${floor})`);
        const v = Number(r.value!.toString());
        assert.ok(v >= floor, `${label}: counter ${w} rolled back to ${v} (acknowledged ${floor})`);
        assert.ok(v <= counters[w]!.lastAttempted, `${label}: counter ${w} = ${v} was never written`);
      }
      for (let w = 0; w < WRITERS; w++) {
        const floor = groups[w]!.lastAcked;
        const kvs = await reader.scanPrefix(`crash/g/${w}/`);
        if (floor < 0 && kvs.length === 0) continue;
        const gens = kvs.map((kv) => kv.value.toString());
        assert.equal(kvs.length, 3, `${label}: batch group ${w} is partial: ${gens.join(',')}`);
        assert.ok(gens.every((g) => g === gens[0]), `${label}: batch group ${w} torn across the crash: ${gens.join(',')}`);
        assert.ok(Number(gens[0]) >= floor, `${label}: batch group ${w} rolled back to ${gens[0]} (acknowledged ${floor})`);
      }
    };

    const load = Promise.all(Array.from({ length: WRITERS }, (_, w) => writerLoop(w)));
    const pids: number[] = [];
    try {
      for (let k = 1; k <= KILLS; k++) {
        await sleep(300 + Math.floor(rand() * 1200));
        pids.push(node.pid!);
        const ackedAtKill = acked.size;
        await node.kill9();
        await sleep(Math.floor(rand() * 300));
        await node.restart();
        await verify(`after kill #${k} (${ackedAtKill} acknowledged before it)`);
      }
    } finally {
      stop = true;
      await load;
    }
    await verify('final');
    assert.equal(node.starts, KILLS + 1);
    assert.equal(new Set(pids).size, KILLS, 'each kill hit a fresh process');
    assert.ok(acked.size > 100, `enough load: only ${acked.size} acknowledged writes`);
    console.log(`      ${acked.size} acknowledged unique writes, ${errors} failed/unknown, ${KILLS} kills`);
    // After all that, the node still serves writes.
    await reader.put('crash/after', 'ok');
    assert.equal((await reader.get('crash/after')).value?.toString(), 'ok');
  });
});
