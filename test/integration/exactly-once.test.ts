// Exactly-once over a real process. Replies are lost *after the server processed the request*, and the
// client retries with the same (client_id, seq):
//  - "proxy": a fault-injecting TCP proxy (test/helpers/process-proxy.ts) resets the connection instead of
//    forwarding a response frame — the network path a real lost reply takes;
//  - "hook": the client's LostReplyInjector (client-side interceptor), when it works (probed first).
// Counters incremented by compare-and-set and lists appended by transactions must show every acknowledged
// operation exactly once — a duplicate apply would double-increment or append twice; a retried Delete /
// CAS must return the original answer.
import assert from 'node:assert/strict';
import { KvClient, LostReplyInjector } from '../../node/src/client/index.js';
import { FaultProxy } from '../helpers/process-proxy.js';
import { prng, testSeed, useNode } from './support/fixture.js';

const CLIENTS = 4;


describe('exactly-once: retries after lost replies apply once', function () {
  this.timeout(120_000);
  const f = useNode();
  const proxies: FaultProxy[] = [];
  const injectors: LostReplyInjector[] = [];
  let hookWorks = false;

  before(async function () {
    // Probe the client-side hook: a dropped reply must turn into a retry, not a hang.
    const lost = new LostReplyInjector();
    const c = new KvClient({ endpoints: [f.node.address], lostReplies: lost, timeoutMs: 3000 });
    try {
      await c.put('eo/probe', 'x');
      lost.dropNext(1, ['Put']);
      const r = await Promise.race([c.put('eo/probe', 'y').then(() => 'ok'), new Promise((res) => setTimeout(() => res('hang'), 4000))]);
      hookWorks = r === 'ok';
    } catch {
      hookWorks = false;
    } finally {
      c.close();
    }
    if (!hookWorks) console.log('      (LostReplyInjector probe: a dropped reply never completes the call — hook-based variants skipped)');
  });

  after(async function () {
    await Promise.all(proxies.map((p) => p.close()));
  });

  /** A client whose replies are lost with probability p: through its own proxy, or the client hook. */
  async function lossyClient(via: 'proxy' | 'hook', seed: number, p: number, methods: string[]): Promise<{ client: KvClient; dropNext: () => void }> {
    if (via === 'proxy') {
      const proxy = await FaultProxy.start(f.node.address, { random: prng(seed) });
      proxy.setReplyDropProbability(p);
      proxies.push(proxy);
      const client = f.client({ endpoints: [proxy.address], timeoutMs: 20_000 });
      return { client, dropNext: () => proxy.dropNextReplies(1) };
    }
    const lost = new LostReplyInjector({ probability: p, methods, random: prng(seed) });
    injectors.push(lost);
    const client = f.client({ lostReplies: lost, timeoutMs: 20_000 });
    return { client, dropNext: () => lost.dropNext(1, methods) };
  }

  const dropped = (via: 'proxy' | 'hook'): number =>
    via === 'proxy' ? proxies.reduce((s, p) => s + p.stats.resets, 0) : injectors.reduce((s, i) => s + i.totalDropped, 0);

  it('negative control: without sessions, a naive retry after a lost reply double-increments', async function () {
    const proxy = await FaultProxy.start(f.node.address);
    proxies.push(proxy);
    const naive = f.client({ endpoints: [proxy.address], sessions: false, timeoutMs: 5000 });
    const key = 'eo/naive/counter';
    await naive.put(key, '0');
    let acknowledged = 0;
    for (let i = 0; i < 5; i++) {
      // A naive increment: CAS, retried by hand on any transport error; a failed CAS re-reads.
      let first = true;
      for (;;) {
        const n = Number((await naive.get(key)).value!.toString());
        // Lose the reply of the first CAS attempt (after the server applied it).
        if (first) proxy.dropNextReplies(1);
        first = false;
        let ok: boolean;
        try {
          ok = (await naive.put(key, String(n + 1), { expectedValue: String(n) })).succeeded;
        } catch {
          continue;
        }
        if (ok) break;
      }
      acknowledged++;
    }
    const final = Number((await naive.get(key)).value!.toString());
    assert.ok(final > acknowledged, `expected duplicates without sessions, got counter ${final} for ${acknowledged} increments`);
  });

  for (const via of ['proxy', 'hook'] as const) {
    describe(`lost replies via ${via}`, function () {
      let base = 0;
      beforeEach(function () {
        if (via === 'hook' && !hookWorks) this.skip();
        base = dropped(via);
      });

      it('CAS counter increments (Put replies lost)', async function () {
        const seed = testSeed(`eo-cas-${via}`);
        const key = `eo/${via}/counter`;
        await f.client().put(key, '0');
        const INCREMENTS = 40;
        let casFailures = 0;
        const worker = async (c: number): Promise<number> => {
          // Proxy: per response frame (~3 per reply), so a lower rate gives a similar loss per call.
          const { client } = await lossyClient(via, seed + c, via === 'proxy' ? 0.1 : 0.3, ['Put']);
          let done = 0;
          while (done < INCREMENTS) {
            const cur = await client.get(key);
            const n = Number(cur.value!.toString());
            const r = await client.put(key, String(n + 1), { expectedValue: String(n) });
            if (r.succeeded) done++;
            else casFailures++;
          }
          return done;
        };
        const dones = await Promise.all(Array.from({ length: CLIENTS }, (_, c) => worker(c)));
        const lost = dropped(via) - base;
        const final = Number((await f.client().get(key)).value!.toString());
        console.log(`      ${lost} replies lost, ${casFailures} CAS failures (contention), counter ${final}`);
        assert.ok(lost >= 10, `only ${lost} replies were lost`);
        assert.equal(final, dones.reduce((a, b) => a + b, 0), 'every acknowledged increment applied exactly once');
      });

      it('transactional appends (replies lost, Commit included)', async function () {
        const seed = testSeed(`eo-txn-${via}`);
        const key = `eo/${via}/list`;
        await f.client().put(key, '');
        const APPENDS = 20;
        const acked: string[] = [];
        const worker = async (c: number): Promise<void> => {
          const { client } = await lossyClient(via, seed * 7 + c, via === 'proxy' ? 0.08 : 0.3, ['Commit']);
          for (let n = 0; n < APPENDS; n++) {
            const id = `c${c}.${n}`;
            await client.txn(
              async (tx) => {
                const cur = (await tx.get(key)).value?.toString() ?? '';
                await tx.put(key, cur ? `${cur},${id}` : id);
              },
              { maxAttempts: 200 },
            );
            acked.push(id);
          }
        };
        await Promise.all(Array.from({ length: CLIENTS }, (_, c) => worker(c)));
        const lost = dropped(via) - base;
        const items = ((await f.client().get(key)).value?.toString() ?? '').split(',').filter(Boolean);
        const counts = new Map<string, number>();
        for (const it of items) counts.set(it, (counts.get(it) ?? 0) + 1);
        const dups = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
        const missing = acked.filter((id) => !counts.has(id));
        console.log(`      ${lost} replies lost, ${items.length} items appended`);
        assert.ok(lost >= 5, `only ${lost} replies were lost`);
        assert.deepEqual(dups, [], 'no append applied twice');
        assert.deepEqual(missing, [], 'every acknowledged append is there');
        assert.equal(items.length, CLIENTS * APPENDS);
      });

      it('a retried Delete / CAS after a lost reply returns the original result', async function () {
        const methods = ['Delete', 'Put'];
        const { client, dropNext } = await lossyClient(via, 1, 0, methods);
        for (let i = 0; i < 5; i++) {
          const k = `eo/${via}/d/${i}`;
          await client.put(k, 'x');
          dropNext();
          // Re-applied, the delete would answer deleted=false; deduplicated, it returns the first answer.
          assert.equal((await client.delete(k)).deleted, true, `delete #${i}`);
          assert.equal((await client.get(k)).found, false);

          const c = `eo/${via}/cas/${i}`;
          await client.put(c, '0');
          dropNext();
          // Re-applied, the CAS would fail (the value is already 1).
          assert.equal((await client.put(c, '1', { expectedValue: '0' })).succeeded, true, `cas #${i}`);
        }
        assert.equal(dropped(via) - base, 10);
        assert.ok(client.retries >= 10, `client retried ${client.retries} times`);
      });
    });
  }
});
