// Serializability (bank): N accounts, concurrent transfer transactions (read two balances, write both)
// retried on conflict, and concurrent read-only transactions / snapshot scans that read every account
// and check the total. The total must be constant at every read and at the end, no balance may go
// negative, and conflicts must actually have happened (otherwise the test proved nothing).
import assert from 'node:assert/strict';
import { KvConflictError } from '../../node/src/client/index.js';
import { prng, sleep, testSeed, useNode } from './support/fixture.js';

const ACCOUNTS = 8;
const INITIAL = 100;
const TRANSFER_CLIENTS = 8;
const TRANSFERS_PER_CLIENT = 60;
const READERS = 2;
const TIME_LIMIT_MS = 20_000;

const acct = (i: number): string => `bank/acct/${String(i).padStart(3, '0')}`;

describe('serializability: bank transfers conserve the total', function () {
  this.timeout(120_000);
  const f = useNode();

  it('keeps the total constant under concurrent transfers and read-only transactions', async function () {
    const seed = testSeed('bank');
    const rand = prng(seed);
    const setup = f.client();
    await setup.batch(Array.from({ length: ACCOUNTS }, (_, i) => ({ op: 'put' as const, key: acct(i), value: String(INITIAL) })));
    const total = ACCOUNTS * INITIAL;
    const deadline = Date.now() + TIME_LIMIT_MS;
    let conflicts = 0;
    let committed = 0;
    let readChecks = 0;
    let scanChecks = 0;
    let done = false;

    const transfers = async (c: number): Promise<void> => {
      const client = f.client({ timeoutMs: 15_000 });
      for (let n = 0; n < TRANSFERS_PER_CLIENT && Date.now() < deadline; n++) {
        const a = Math.floor(rand() * ACCOUNTS);
        let b = Math.floor(rand() * (ACCOUNTS - 1));
        if (b >= a) b++;
        const amount = 1 + Math.floor(rand() * 20);
        const pause = Math.floor(rand() * 4);
        const out = await client.txnDetailed(
          async (tx) => {
            const [ra, rb] = await Promise.all([tx.get(acct(a)), tx.get(acct(b))]);
            const ba = Number(ra.value?.toString());
            const bb = Number(rb.value?.toString());
            assert.ok(Number.isInteger(ba) && Number.isInteger(bb), `client ${c}: unreadable balances ${ra.value} ${rb.value}`);
            // Widen the read-write window so concurrent transfers really overlap.
            if (pause) await sleep(pause);
            const amt = Math.min(amount, ba);
            await tx.put(acct(a), String(ba - amt));
            await tx.put(acct(b), String(bb + amt));
          },
          { maxAttempts: 200 },
        );
        conflicts += out.attempts - 1;
        committed++;
      }
    };

    const readers = async (r: number): Promise<void> => {
      const client = f.client({ timeoutMs: 15_000 });
      while (!done && Date.now() < deadline + 5000) {
        if (r % 2 === 0) {
          // Read-only transaction: one get per account.
          const balances = await client.txn(async (tx) => Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => tx.get(acct(i)))), { readOnly: true, maxAttempts: 50 });
          const values = balances.map((g) => Number(g.value?.toString()));
          const sum = values.reduce((x, y) => x + y, 0);
          assert.equal(sum, total, `read-only txn saw total ${sum}: ${values.join(',')}`);
          assert.ok(values.every((v) => v >= 0), `negative balance: ${values.join(',')}`);
          readChecks++;
        } else {
          // Snapshot scan outside a transaction.
          const kvs = await client.scanPrefix('bank/acct/');
          assert.equal(kvs.length, ACCOUNTS);
          const sum = kvs.reduce((s, kv) => s + Number(kv.value.toString()), 0);
          assert.equal(sum, total, `scan saw total ${sum}`);
          scanChecks++;
        }
        await sleep(2);
      }
    };

    const readerRuns = Array.from({ length: READERS }, (_, r) => readers(r));
    try {
      await Promise.all(Array.from({ length: TRANSFER_CLIENTS }, (_, c) => transfers(c)));
    } finally {
      done = true;
      await Promise.all(readerRuns);
    }

    const final = await setup.scanPrefix('bank/acct/');
    const sum = final.reduce((s, kv) => s + Number(kv.value.toString()), 0);
    console.log(`      ${committed} transfers committed, ${conflicts} conflict retries, ${readChecks} read-only txn checks, ${scanChecks} scan checks`);
    assert.equal(sum, total, 'final total');
    assert.ok(committed >= TRANSFER_CLIENTS * 10, `too few transfers committed (${committed})`);
    assert.ok(conflicts > 0, 'no conflict happened: the test did not exercise concurrent transactions');
    assert.ok(readChecks > 0 && scanChecks > 0, 'the readers ran');
  });

  it('negative control: the same transfers without transactions are caught breaking the total', async function () {
    // Lost updates (read-read-write-write without a transaction) must be visible to the same check.
    const c = f.client();
    const acctN = (i: number): string => `bank/neg/${i}`;
    await c.batch(Array.from({ length: ACCOUNTS }, (_, i) => ({ op: 'put' as const, key: acctN(i), value: String(INITIAL) })));
    const rand = prng(99);
    const deadline = Date.now() + 10_000;
    let broken = false;
    const worker = async (): Promise<void> => {
      while (!broken && Date.now() < deadline) {
        const a = Math.floor(rand() * ACCOUNTS);
        const b = (a + 1 + Math.floor(rand() * (ACCOUNTS - 1))) % ACCOUNTS;
        const [ra, rb] = await Promise.all([c.get(acctN(a)), c.get(acctN(b))]);
        await sleep(1 + Math.floor(rand() * 3));
        const ba = Number(ra.value!.toString());
        const bb = Number(rb.value!.toString());
        const amt = Math.min(5, ba);
        await c.put(acctN(a), String(ba - amt));
        await c.put(acctN(b), String(bb + amt));
      }
    };
    const checker = async (): Promise<void> => {
      while (!broken && Date.now() < deadline) {
        const kvs = await c.scanPrefix('bank/neg/');
        if (kvs.reduce((s, kv) => s + Number(kv.value.toString()), 0) !== ACCOUNTS * INITIAL) broken = true;
        await sleep(5);
      }
    };
    await Promise.all([...Array.from({ length: TRANSFER_CLIENTS }, worker), checker()]);
    const final = (await c.scanPrefix('bank/neg/')).reduce((s, kv) => s + Number(kv.value.toString()), 0);
    assert.ok(broken || final !== ACCOUNTS * INITIAL, 'non-transactional transfers never broke the total: the check would be vacuous');
  });

  it('reports a conflict as a typed, retryable error to a raw transaction', async function () {
    const c = f.client();
    await c.put('bank/x', '1');
    const t1 = await c.begin();
    const t2 = await c.begin();
    await c.get('bank/x', { txnId: t1.txnId });
    await c.get('bank/x', { txnId: t2.txnId });
    await c.put('bank/x', '2', { txnId: t1.txnId });
    await c.put('bank/x', '3', { txnId: t2.txnId });
    await c.commit(t1.txnId);
    await assert.rejects(c.commit(t2.txnId), (e: unknown) => e instanceof KvConflictError && e.retryable === true);
    assert.equal((await c.get('bank/x')).value?.toString(), '2');
  });
});
