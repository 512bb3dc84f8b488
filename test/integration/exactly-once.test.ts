// Exactly-once over a real process: the client's lost-reply hook lets the server process a request and
// then drops the reply (as if the connection died after the server answered); the client retries with
// the same (client_id, seq). Counters incremented by compare-and-set and lists appended by transactions
// must show every acknowledged operation exactly once — a duplicate apply would double-increment or
// append twice.
import assert from 'node:assert/strict';
import { KvClient, LostReplyInjector } from '../../node/src/client/index.js';
import { prng, testSeed, useNode } from './support/fixture.js';

const CLIENTS = 4;

describe('exactly-once: retries after lost replies apply once', function () {
  this.timeout(120_000);
  const f = useNode();

  it('CAS counter increments with 30% of Put replies lost', async function () {
    const seed = testSeed('eo-cas');
    const key = 'eo/counter';
    await f.client().put(key, '0');
    const INCREMENTS = 40;
    const injectors: LostReplyInjector[] = [];
    let casFailures = 0;
    const worker = async (c: number): Promise<number> => {
      const lost = new LostReplyInjector({ probability: 0.3, methods: ['Put'], random: prng(seed + c) });
      injectors.push(lost);
      const client: KvClient = f.client({ lostReplies: lost, timeoutMs: 15_000 });
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
    const dropped = injectors.reduce((s, i) => s + i.totalDropped, 0);
    const final = Number((await f.client().get(key)).value!.toString());
    console.log(`      ${dropped} replies dropped, ${casFailures} CAS failures (contention), counter ${final}`);
    assert.ok(dropped >= 10, `the hook dropped only ${dropped} replies`);
    assert.equal(final, dones.reduce((a, b) => a + b, 0), 'every acknowledged increment applied exactly once');
  });

  it('transactional appends with 30% of Commit replies lost', async function () {
    const seed = testSeed('eo-txn');
    const key = 'eo/list';
    await f.client().put(key, '');
    const APPENDS = 20;
    const injectors: LostReplyInjector[] = [];
    const acked: string[] = [];
    const worker = async (c: number): Promise<void> => {
      const lost = new LostReplyInjector({ probability: 0.3, methods: ['Commit'], random: prng(seed * 7 + c) });
      injectors.push(lost);
      const client = f.client({ lostReplies: lost, timeoutMs: 15_000 });
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
    const dropped = injectors.reduce((s, i) => s + i.totalDropped, 0);
    const items = ((await f.client().get(key)).value?.toString() ?? '').split(',').filter(Boolean);
    const counts = new Map<string, number>();
    for (const it of items) counts.set(it, (counts.get(it) ?? 0) + 1);
    const dups = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    const missing = acked.filter((id) => !counts.has(id));
    console.log(`      ${dropped} commit replies dropped, ${items.length} items appended`);
    assert.ok(dropped >= 5, `the hook dropped only ${dropped} replies`);
    assert.deepEqual(dups, [], 'no append applied twice');
    assert.deepEqual(missing, [], 'every acknowledged append is there');
    assert.equal(items.length, CLIENTS * APPENDS);
  });

  it('a retried Delete / CAS after a lost reply returns the original result', async function () {
    const lost = new LostReplyInjector();
    const client = f.client({ lostReplies: lost });
    for (let i = 0; i < 5; i++) {
      await client.put(`eo/d/${i}`, 'x');
      lost.dropNext(1, ['Delete']);
      // Re-applied, the delete would answer deleted=false; deduplicated, it returns the first answer.
      assert.equal((await client.delete(`eo/d/${i}`)).deleted, true, `delete #${i}`);
      assert.equal((await client.get(`eo/d/${i}`)).found, false);

      await client.put(`eo/cas/${i}`, '0');
      lost.dropNext(1, ['Put']);
      // Re-applied, the CAS would fail (the value is already 1).
      assert.equal((await client.put(`eo/cas/${i}`, '1', { expectedValue: '0' })).succeeded, true, `cas #${i}`);
    }
    assert.equal(lost.totalDropped, 10);
    assert.ok(client.retries >= 10, `client retried ${client.retries} times`);
  });
});
