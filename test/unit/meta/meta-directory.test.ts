// The meta directory (meta/meta-directory.ts): PD's rules make every publish order converge on the
// current ranges; lookups; the record codec. Includes a negative control: a last-writer-wins directory
// fails the same convergence property.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { MetaDirectory, decodeMetaRecord, encodeMetaRecord, type MetaRecord } from '../../../node/src/meta/meta-directory.js';
import { splitRange, changeReplicas, type RangeDescriptor } from '../../../node/src/meta/range-descriptor.js';

const b = (s: string) => Buffer.from(s);
const root = (): RangeDescriptor => ({
  rangeId: 1,
  start: Buffer.alloc(0),
  end: Buffer.alloc(0),
  epoch: { confVer: 3, version: 1 },
  replicas: [1, 2, 3].map((s) => ({ storeId: s, peerId: s, role: 'voter' as const })),
});
const rec = (d: RangeDescriptor, leader = 1, term = 1): MetaRecord => ({ descriptor: d, leaderStoreId: leader, leaderTerm: term, leaderAddress: `127.0.0.${leader}:7000` });
const split = (d: RangeDescriptor, key: string, id: number) => splitRange(d, b(key), { rangeId: id, peerIds: new Map(d.replicas.map((r) => [r.storeId, r.storeId])) });

/** The directory's records as comparable tuples. */
const view = (dir: { all(): readonly MetaRecord[] }) => dir.all().map((r) => `${r.descriptor.rangeId}[${r.descriptor.start.toString()},${r.descriptor.end.toString()})v${r.descriptor.epoch.version}c${r.descriptor.epoch.confVer}`);

describe('meta directory', () => {
  it('keeps the newest record of a range: older epochs and older leader terms are refused', () => {
    const dir = new MetaDirectory();
    const d1 = root();
    assert.equal(dir.put(rec(d1, 1, 5)).accepted, true);
    const d2 = changeReplicas(d1, [{ kind: 'remove', storeId: 3 }]);
    assert.equal(dir.put(rec(d2, 1, 5)).accepted, true);
    assert.deepEqual(dir.put(rec(d1, 2, 9)), { accepted: false, reason: 'stale-epoch' }, 'an older confVer loses even with a newer term');
    assert.deepEqual(dir.put(rec(d2, 2, 4)), { accepted: false, reason: 'stale-term' });
    assert.deepEqual(dir.put(rec(d2, 1, 5)), { accepted: false, reason: 'unchanged' });
    assert.equal(dir.put(rec(d2, 2, 6)).accepted, true, 'a new leader at the same epoch');
    assert.equal(dir.get(1)!.leaderStoreId, 2);
    // A record written by a split's apply (leader unknown) does not replace a known leader of the same term.
    assert.deepEqual(dir.put({ ...rec(d2, 0, 6), leaderAddress: '' }), { accepted: false, reason: 'stale-term' });
  });

  it('a split published right half first: the parent record is replaced, then the left half arrives', () => {
    const dir = new MetaDirectory();
    const p = root();
    dir.put(rec(p));
    const { left, right } = split(p, 'm', 7);
    const out = dir.put(rec(right));
    assert.deepEqual(out, { accepted: true, removed: [1] }, 'the older overlapped parent is removed');
    assert.equal(dir.lookup(b('a')), undefined, 'a gap until the left half is published');
    assert.equal(dir.lookup(b('m'))!.descriptor.rangeId, 7);
    // The stale parent, re-published late, overlaps a newer record: refused.
    assert.deepEqual(dir.put(rec(p, 1, 9)), { accepted: false, reason: 'overlaps-newer', newer: 7 });
    assert.equal(dir.put(rec(left)).accepted, true);
    assert.deepEqual(view(dir), ['1[,m)v2c3', '7[m,)v2c3']);
    assert.equal(dir.lookup(b(''))!.descriptor.rangeId, 1);
    assert.equal(dir.lookup(b('l\xff'))!.descriptor.rangeId, 1);
    assert.equal(dir.lookup(b('zzz'))!.descriptor.rangeId, 7);
  });

  it('lookupBefore: the range holding the keys just below an exclusive bound (a reverse scan cursor)', () => {
    const dir = new MetaDirectory();
    const p = root();
    const { left, right } = split(p, 'm', 7);
    dir.put(rec(right));
    assert.equal(dir.lookupBefore(b(''))!.descriptor.rangeId, 7, 'empty = +∞: the last range');
    assert.equal(dir.lookupBefore(b('z'))!.descriptor.rangeId, 7);
    assert.equal(dir.lookupBefore(b('m\x00'))!.descriptor.rangeId, 7);
    assert.equal(dir.lookupBefore(b('m')), undefined, 'below m is the gap until the left half is published');
    dir.put(rec(left));
    assert.equal(dir.lookupBefore(b('m'))!.descriptor.rangeId, 1, 'the bound is exclusive: below m is the left half');
    assert.equal(dir.lookupBefore(b('a'))!.descriptor.rangeId, 1);
    assert.equal(dir.lookupBefore(b('\x00'))!.descriptor.rangeId, 1);
    const { left: l2 } = split(left, 'c', 8);
    dir.put(rec(l2));
    // Range 1 is [, c) now and [c, m) is not published yet: the keys below m are a gap, below c range 1.
    assert.equal(dir.lookupBefore(b('m')), undefined);
    assert.equal(dir.lookupBefore(b('c'))!.descriptor.rangeId, 1);
    dir.put(rec(split(left, 'c', 8).right));
    assert.equal(dir.lookupBefore(b('m'))!.descriptor.rangeId, 8);
    assert.equal(new MetaDirectory().lookupBefore(b('')), undefined);
  });

  it('the record codec round-trips and refuses garbage', () => {
    const { right } = split(root(), 'k', 42);
    const r = rec(right, 3, 17);
    assert.deepEqual(decodeMetaRecord(encodeMetaRecord(r)), r);
    assert.throws(() => decodeMetaRecord(Buffer.from([9, 9, 9])), /format/);
    assert.throws(() => decodeMetaRecord(encodeMetaRecord(r).subarray(0, 30)), /truncated|range descriptor/);
  });

  // A random split history; every intermediate descriptor is published (some twice) in a random order.
  // Whatever the order, once the final descriptors have all been published the directory is exactly them.
  const history = fc
    .record({
      keys: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 3, unit: fc.constantFrom('a', 'b', 'c', 'd', 'e') }), { minLength: 1, maxLength: 8 }),
      seed: fc.integer(),
    })
    .map(({ keys, seed }) => {
      let ranges = [root()];
      const published: RangeDescriptor[] = [root()];
      let nextId = 2;
      for (const k of keys) {
        const i = ranges.findIndex((d) => Buffer.compare(d.start, b(k)) < 0 && (d.end.length === 0 || Buffer.compare(b(k), d.end) < 0));
        if (i < 0) continue;
        const { left, right } = split(ranges[i]!, k, nextId++);
        ranges = [...ranges.slice(0, i), left, right, ...ranges.slice(i + 1)];
        published.push(left, right);
      }
      return { final: ranges, published, seed };
    });

  const shuffled = <T>(xs: readonly T[], seed: number): T[] => {
    const out = [...xs, ...xs.filter((_, i) => (seed + i) % 3 === 0)]; // some duplicates
    let s = seed >>> 0 || 1;
    for (let i = out.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) >>> 0;
      const j = s % (i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };

  it('converges on the current ranges whatever the publish order (property)', () => {
    fc.assert(
      fc.property(history, ({ final, published, seed }) => {
        const dir = new MetaDirectory();
        for (const d of shuffled(published, seed)) dir.put(rec(d));
        // The final descriptors are published again (the publisher re-sends until they are in).
        for (const d of final) dir.put(rec(d));
        assert.deepEqual(view(dir), view({ all: () => final.map((d) => rec(d)) }));
      }),
      { numRuns: 300 },
    );
  });

  it('negative control: a last-writer-wins directory does not converge for some order', () => {
    const lww = (recs: RangeDescriptor[]) => {
      const m = new Map<number, RangeDescriptor>();
      for (const d of recs) m.set(d.rangeId, d);
      return [...m.values()].sort((x, y) => Buffer.compare(x.start, y.start)).map((d) => rec(d));
    };
    const found = fc.sample(history, 300).some(({ final, published, seed }) => {
      const order = [...shuffled(published, seed), ...final.filter((_, i) => i % 2 === 0)];
      // Naive: the last record per range wins, overlaps kept.
      return JSON.stringify(view({ all: () => lww(order) })) !== JSON.stringify(view({ all: () => final.map((d) => rec(d)) }));
    });
    assert.equal(found, true, 'the convergence check must be able to fail');
  });
});
