// Range lookups of a store (raftstore/range-locate.ts): from its own replica of the meta range when it
// has a usable one, else from its peers over the TxnCall "locate" step (served by serveTxnCall, the real
// codec) — peers without a meta replica refuse and the next is asked; bounded rounds, then a retryable
// KEY_NOT_IN_RANGE; peer answers are kept for a moment. The fake transport counts the calls.
import { strict as assert } from 'node:assert';
import { KeyNotInRangeError, RangeNotFoundError } from '../../../node/src/kv/errors.js';
import { MetaDirectory, type MetaRecord } from '../../../node/src/meta/meta-directory.js';
import { splitRange, type RangeDescriptor } from '../../../node/src/meta/range-descriptor.js';
import { RangeLocator } from '../../../node/src/raftstore/range-locate.js';
import { serveTxnCall, type TxnCallFn, type TxnCallHost } from '../../../node/src/raftstore/txn-rpc.js';

const b = (s: string): Buffer => Buffer.from(s);
const root: RangeDescriptor = { rangeId: 1, start: Buffer.alloc(0), end: Buffer.alloc(0), epoch: { confVer: 3, version: 1 }, replicas: [1, 2, 3].map((s) => ({ storeId: s, peerId: s, role: 'voter' as const })) };
const { left, right } = splitRange(root, b('m'), { rangeId: 7, peerIds: new Map([[1, 1], [2, 2], [3, 3]]) });
const rec = (d: RangeDescriptor): MetaRecord => ({ descriptor: d, leaderStoreId: 2, leaderTerm: 4, leaderAddress: '127.0.0.2:7000' });

function directory(...recs: MetaRecord[]): MetaDirectory {
  const d = new MetaDirectory();
  for (const r of recs) d.put(r);
  return d;
}

/** A store answering TxnCalls with `dir` as its meta replica's directory (undefined: it holds none). */
function host(dir: MetaDirectory | undefined): TxnCallHost {
  return {
    replica: () => undefined,
    get: () => Promise.reject(new Error('unused')),
    scan: () => Promise.reject(new Error('unused')),
    locate: (key, before) => {
      if (dir === undefined) throw new RangeNotFoundError(1);
      return before ? dir.lookupBefore(key) : dir.lookup(key);
    },
  };
}

/** Stores by id: a host, or 'down' (the call rejects). Counts calls per store. */
function network(stores: Record<number, TxnCallHost | 'down'>): { call: TxnCallFn; calls: Map<number, number> } {
  const calls = new Map<number, number>();
  const call: TxnCallFn = async (to, rangeId, payload) => {
    calls.set(to, (calls.get(to) ?? 0) + 1);
    const h = stores[to];
    if (h === undefined || h === 'down') throw new Error(`store ${to} unreachable`);
    return serveTxnCall(h, rangeId, payload);
  };
  return { call, calls };
}

describe('range locator (a store without a usable meta replica asks its peers)', () => {
  it('answers from the local directory when it has the record (no call)', async () => {
    const net = network({});
    const loc = new RangeLocator({ directory: () => directory(rec(left), rec(right)), peers: () => [2, 3], call: net.call });
    assert.equal((await loc.locate(b('q')))!.descriptor.rangeId, 7);
    assert.equal((await loc.locate(b('m'), true))!.descriptor.rangeId, 1, 'below m');
    assert.equal(net.calls.size, 0);
  });

  it('without a directory: the first peer holding the meta range answers (one without it refuses, one down is skipped)', async () => {
    const net = network({ 2: host(undefined), 3: 'down', 4: host(directory(rec(left), rec(right))) });
    const loc = new RangeLocator({ directory: () => undefined, peers: () => [2, 3, 4], call: net.call });
    const r = await loc.locate(b('q'));
    assert.equal(r!.descriptor.rangeId, 7);
    assert.deepEqual(r!.descriptor.replicas.map((x) => x.storeId), [1, 2, 3]);
    assert.equal(r!.leaderAddress, '127.0.0.2:7000');
    assert.equal((await loc.locate(b(''), true))!.descriptor.rangeId, 7, 'reverse from +∞');
    assert.equal((await loc.locate(b('a')))!.descriptor.rangeId, 1);
    // Kept for a moment: the same range again costs no call.
    const before = [...net.calls.values()].reduce((a, n) => a + n, 0);
    assert.equal((await loc.locate(b('r')))!.descriptor.rangeId, 7);
    assert.equal([...net.calls.values()].reduce((a, n) => a + n, 0), before);
    assert.equal(loc.stats.cacheHits, 2, 'the reverse lookup from +∞ and this one');
  });

  it('a cached record expires: asked again after cacheMs', async () => {
    let now = 1000;
    const net = network({ 2: host(directory(rec(left), rec(right))) });
    const loc = new RangeLocator({ directory: () => undefined, peers: () => [2], call: net.call, nowMs: () => now }, { cacheMs: 500 });
    await loc.locate(b('q'));
    await loc.locate(b('q'));
    assert.equal(net.calls.get(2), 1);
    now += 600;
    await loc.locate(b('q'));
    assert.equal(net.calls.get(2), 2);
  });

  it('a peer holding the meta range without a record: undefined (not an error); an empty local directory asks the peers', async () => {
    const net = network({ 2: host(directory(rec(right))) });
    const loc = new RangeLocator({ directory: () => undefined, peers: () => [2], call: net.call });
    assert.equal(await loc.locate(b('a')), undefined, 'the left half is not published there');
    const withLocal = new RangeLocator({ directory: () => directory(rec(left)), peers: () => [2], call: net.call });
    assert.equal((await withLocal.locate(b('q')))!.descriptor.rangeId, 7, 'the local directory lacks it; the peer has it');
  });

  it('no peer answers: bounded rounds, then a retryable KEY_NOT_IN_RANGE naming the meta range', async () => {
    const net = network({ 2: host(undefined), 3: 'down' });
    const loc = new RangeLocator({ directory: () => undefined, peers: () => [2, 3], call: net.call }, { rounds: 3, backoffMs: 1 });
    await assert.rejects(loc.locate(b('q')), (e: unknown) => e instanceof KeyNotInRangeError && e.retryable && /no replica of the meta range \(range 1\) and none of its 2 peer stores answered/.test(e.message));
    assert.deepEqual([net.calls.get(2), net.calls.get(3)], [3, 3], 'three rounds over both peers, no more');
    assert.equal(loc.stats.failures, 1);
    // No peers at all: the same refusal, no call.
    const alone = new RangeLocator({ directory: () => undefined, peers: () => [], call: net.call }, { rounds: 2, backoffMs: 1 });
    await assert.rejects(alone.locate(b('q')), KeyNotInRangeError);
  });

  it('asks at most 8 peers per round', async () => {
    const net = network({});
    const loc = new RangeLocator({ directory: () => undefined, peers: () => Array.from({ length: 20 }, (_, i) => i + 2), call: net.call }, { rounds: 1 });
    await assert.rejects(loc.locate(b('q')), KeyNotInRangeError);
    assert.equal(net.calls.size, 8);
  });
});
