// Crash + retry: clients increment counters with CAS under exactly-once sessions while the engine
// "loses power" at random moments. After each crash the store reopens on what was durable and clients
// retry their in-flight request with the same (clientId, seq). Every acknowledged increment is durable,
// and no increment is applied twice: each counter ends at exactly the number of increments its client
// saw succeed.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { EngineOp, WriteOptions } from '../../../node/src/engine/engine.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { LocalStore } from '../../../node/src/kv/local-store.js';
import type { PutResult } from '../../../node/src/kv/api.js';

class SlowEngine extends MemoryEngine {
  constructor(private readonly delay: () => number) {
    super();
  }
  override async write(ops: readonly EngineOp[], opts?: WriteOptions): Promise<void> {
    const d = this.delay();
    if (d > 0) await new Promise((r) => setTimeout(r, d));
    return super.write(ops, opts);
  }
  /** A crash that keeps the slow behaviour. */
  crashSlow(): SlowEngine {
    const next = new SlowEngine(this.delay);
    const survived = this.crash();
    // Move the durable contents over (engines are persistent trees: cheap).
    (next as unknown as { root: unknown; durable: unknown }).root = (survived as unknown as { root: unknown }).root;
    (next as unknown as { root: unknown; durable: unknown }).durable = (survived as unknown as { root: unknown }).root;
    return next;
  }
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

describe('crash + exactly-once retries', function () {
  this.timeout(120_000);

  it('acknowledged increments survive crashes and retried ones never apply twice (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), async (seed, clients, crashes) => {
        const rand = prng(seed);
        let engine = new SlowEngine(() => (rand() < 0.5 ? 0 : Math.floor(rand() * 3)));
        let store = await LocalStore.open({ engine, gcIntervalMs: 0 });
        let generation = 0;
        const perClient = 8;
        const succeeded = new Array<number>(clients).fill(0);
        const key = (c: number): Buffer => Buffer.from(`counter/${c}`);

        const runClient = async (c: number): Promise<void> => {
          let seq = 0;
          let firstUnacked = 1;
          for (let n = 0; n < perClient; n++) {
            // Read the current value, then CAS it +1 under a fresh seq; retry that seq until answered.
            let cur: number | undefined;
            for (let attempt = 0; ; attempt++) {
              assert.ok(attempt < 5000, 'no progress');
              try {
                const g = await store.get(key(c));
                cur = g.found ? Number(g.value!.toString()) : 0;
                break;
              } catch {
                await new Promise((r) => setTimeout(r, 2));
              }
            }
            seq++;
            const session = { clientId: `client-${c}-${seed}`, seq, firstUnacked };
            let first: boolean | undefined;
            for (let attempt = 0; ; attempt++) {
              assert.ok(attempt < 1000, 'no progress');
              const s = store;
              try {
                const r: PutResult = cur === 0 ? await s.put(key(c), Buffer.from('1'), { session, expectAbsent: true }) : await s.put(key(c), Buffer.from(String(cur! + 1)), { session, expectedValue: Buffer.from(String(cur)) });
                if (first !== undefined) assert.equal(r.succeeded, first, 'a retry returns the original result');
                if (first === undefined && rand() < 0.3) {
                  first = r.succeeded; // the reply is "lost" after the command was applied: retry
                  continue;
                }
                if (r.succeeded) succeeded[c]!++;
                firstUnacked = seq + 1;
                break;
              } catch (e) {
                if (e instanceof assert.AssertionError) throw e;
                // Lost reply (crash): retry the same request once the store is back.
                for (let w = 0; store === s && w < 5000; w++) await new Promise((r) => setTimeout(r, 1));
              }
            }
          }
        };

        const crasher = async (): Promise<void> => {
          for (let i = 0; i < crashes; i++) {
            await new Promise((r) => setTimeout(r, Math.floor(rand() * 15)));
            const old = store;
            const crashed = engine.crashSlow();
            engine = crashed;
            generation++;
            await old.close().catch(() => undefined);
            store = await LocalStore.open({ engine: crashed, gcIntervalMs: 0 });
          }
        };

        await Promise.all([...Array.from({ length: clients }, (_, c) => runClient(c)), crasher()]);
        for (let c = 0; c < clients; c++) {
          const g = await store.get(key(c));
          const value = g.found ? Number(g.value!.toString()) : 0;
          assert.equal(value, succeeded[c], `client ${c}: counter ${value}, acknowledged increments ${succeeded[c]} (after ${generation} crashes)`);
        }
        await store.close();
      }),
      { numRuns: 40 },
    );
  });
});
