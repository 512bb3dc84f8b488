// Serializability check: concurrent interactive transactions record everything they observe; the
// committed ones, replayed one by one in commit-ts order (read-only ones at their start ts), must observe
// exactly the same values.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { TxnConflictError } from '../../../node/src/kv/errors.js';
import { LocalStore } from '../../../node/src/kv/local-store.js';

const KEYS = ['k/a', 'k/b', 'k/c', 'k/d', 'k/e'];
type Op = { op: 'get'; key: string } | { op: 'scan'; start: string; limit: number; reverse: boolean } | { op: 'put'; key: string } | { op: 'del'; key: string };
type Observed = string; // canonical rendering of what an op returned

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), key: fc.constantFrom(...KEYS) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('scan' as const), start: fc.constantFrom('k/', ...KEYS), limit: fc.integer({ min: 1, max: 4 }), reverse: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.constantFrom(...KEYS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('del' as const), key: fc.constantFrom(...KEYS) }) },
);

/** Runs `ops` against a plain map (the serial model), rendering each result like the real run. */
function replay(state: Map<string, string>, ops: Op[], tag: string): Observed[] {
  const out: Observed[] = [];
  ops.forEach((o, i) => {
    if (o.op === 'get') out.push(`get ${o.key}=${state.get(o.key) ?? '∅'}`);
    else if (o.op === 'put') state.set(o.key, `${tag}.${i}`);
    else if (o.op === 'del') state.delete(o.key);
    else {
      let keys = [...state.keys()].filter((k) => k >= o.start && k.startsWith('k/')).sort();
      if (o.reverse) keys = [...state.keys()].filter((k) => k.startsWith('k/')).sort().reverse();
      const kvs = keys.slice(0, o.limit).map((k) => `${k}=${state.get(k)}`);
      out.push(`scan ${kvs.join(',')} more=${keys.length > o.limit}`);
    }
  });
  return out;
}

describe('serializability of interactive transactions', function () {
  this.timeout(120_000);

  it('committed transactions are equivalent to a serial execution in commit order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.array(opArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 5 }), async (clients) => {
        const s = await LocalStore.open({ gcIntervalMs: 0 });
        try {
          await s.batch(KEYS.slice(0, 3).map((k) => ({ op: 'put' as const, key: Buffer.from(k), value: Buffer.from('init') })));
          const init = new Map(KEYS.slice(0, 3).map((k) => [k, 'init']));
          const committed: Array<{ tag: string; ops: Op[]; observed: Observed[]; startTs: number; commitTs: number }> = [];
          let conflicts = 0;
          await Promise.all(
            clients.map(async (txns, c) => {
              for (let t = 0; t < txns.length; t++) {
                const ops = txns[t]!;
                const tag = `c${c}t${t}`;
                const { txnId, startTs } = await s.begin();
                const observed: Observed[] = [];
                for (let i = 0; i < ops.length; i++) {
                  const o = ops[i]!;
                  if (o.op === 'get') {
                    const r = await s.get(Buffer.from(o.key), { txnId });
                    observed.push(`get ${o.key}=${r.found ? r.value!.toString() : '∅'}`);
                  } else if (o.op === 'put') await s.put(Buffer.from(o.key), Buffer.from(`${tag}.${i}`), { txnId });
                  else if (o.op === 'del') await s.delete(Buffer.from(o.key), { txnId });
                  else {
                    const r = o.reverse
                      ? await s.scan({ prefix: Buffer.from('k/'), reverse: true, limit: o.limit, txnId })
                      : await s.scan({ start: Buffer.from(o.start), end: Buffer.from('k0'), limit: o.limit, txnId });
                    observed.push(`scan ${r.kvs.map((kv) => `${kv.key}=${kv.value}`).join(',')} more=${r.more}`);
                  }
                  await new Promise((res) => setImmediate(res)); // let others interleave
                }
                try {
                  const { commitTs } = await s.commit(txnId);
                  committed.push({ tag, ops, observed, startTs, commitTs });
                } catch (e) {
                  if (!(e instanceof TxnConflictError)) throw e;
                  conflicts++;
                }
              }
            }),
          );
          // Serial replay: writers at their commit ts, read-only ones at their start ts (ties: readers last).
          const order = committed
            .map((t) => ({ ...t, at: t.commitTs === 0 ? t.startTs : t.commitTs, ro: t.commitTs === 0 }))
            .sort((x, y) => x.at - y.at || Number(x.ro) - Number(y.ro));
          const state = new Map(init);
          for (const t of order) {
            const view = t.ro ? new Map(state) : state;
            assert.deepEqual(replay(view, t.ops, t.tag), t.observed, `transaction ${t.tag} (at ${t.at}) is not serializable`);
          }
          const final = await s.scan({ prefix: Buffer.from('k/') });
          assert.deepEqual(new Map(final.kvs.map((kv) => [kv.key.toString(), kv.value.toString()])), state);
          void conflicts;
        } finally {
          await s.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
