// The client's range cache: non-overlapping, newest descriptor wins, fan-out pieces in key order.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { RangeCache } from '../../../node/src/client/range-cache.js';
import { splitRange, type RangeDescriptor } from '../../../node/src/meta/range-descriptor.js';

const b = (s: string) => Buffer.from(s);
const E = Buffer.alloc(0);
const desc = (rangeId: number, start: string, end: string, version: number, confVer = 1): RangeDescriptor => ({
  rangeId,
  start: b(start),
  end: b(end),
  epoch: { confVer, version },
  replicas: [
    { storeId: 1, peerId: rangeId * 10 + 1, role: 'voter' },
    { storeId: 2, peerId: rangeId * 10 + 2, role: 'voter' },
  ],
});
const ids = (rangeId: number) => ({ rangeId, peerIds: new Map([[1, rangeId * 10 + 1], [2, rangeId * 10 + 2]]) });
const shape = (c: RangeCache) => c.all().map((r) => `${r.desc.rangeId}:[${r.desc.start.toString()},${r.desc.end.toString() || '∞'})v${r.desc.epoch.version}`);

describe('client/range-cache', () => {
  it('lookup by key; gaps are misses', () => {
    const c = new RangeCache();
    c.insert(desc(1, '', 'g', 2));
    c.insert(desc(2, 'm', '', 2));
    assert.equal(c.lookup(b('a'))?.desc.rangeId, 1);
    assert.equal(c.lookup(b('g')), undefined);
    assert.equal(c.lookup(b('m'))?.desc.rangeId, 2);
    assert.equal(c.lookup(b('zzz'))?.desc.rangeId, 2);
  });

  it('EPOCH_NOT_MATCH: the split halves replace the parent; the stale parent arriving late is ignored', () => {
    const c = new RangeCache();
    const parent = desc(1, '', '', 1);
    c.insert(parent, 2);
    const { left, right } = splitRange(parent, b('m'), ids(5));
    assert.equal(c.insert(right), true);
    assert.deepEqual(shape(c), ['5:[m,∞)v2'], 'the parent overlapped the right half: evicted');
    assert.equal(c.insert(left), true);
    assert.deepEqual(shape(c), ['1:[,m)v2', '5:[m,∞)v2']);
    assert.equal(c.insert(parent), false, 'an older version never replaces newer overlapping ranges');
    assert.deepEqual(shape(c), ['1:[,m)v2', '5:[m,∞)v2']);
  });

  it('same range, newer confVer wins; leader hints survive a same-range refresh when the store still holds it', () => {
    const c = new RangeCache();
    c.insert(desc(1, 'a', 'z', 3, 1));
    c.setLeader(1, 2);
    assert.equal(c.insert(desc(1, 'a', 'z', 3, 0)), false);
    assert.equal(c.insert(desc(1, 'a', 'z', 3, 2)), true);
    assert.equal(c.lookup(b('q'))?.leaderStoreId, 2);
    c.setLeader(1, 9); // not a replica: ignored
    assert.equal(c.lookup(b('q'))?.leaderStoreId, 2);
    c.invalidate(1);
    assert.equal(c.size, 0);
  });

  it('pieces: a span fans out by range in key order, with gaps for unknown parts', () => {
    const c = new RangeCache();
    c.insert(desc(1, 'b', 'd', 2));
    c.insert(desc(2, 'd', 'f', 2));
    c.insert(desc(3, 'k', '', 2));
    const p = c.pieces(b('a'), E).map((x) => [x.start.toString(), x.end.toString() || '∞', x.range?.desc.rangeId ?? '-']);
    assert.deepEqual(p, [
      ['a', 'b', '-'],
      ['b', 'd', 1],
      ['d', 'f', 2],
      ['f', 'k', '-'],
      ['k', '∞', 3],
    ]);
    assert.deepEqual(c.pieces(b('c'), b('e')).map((x) => [x.start.toString(), x.end.toString(), x.range?.desc.rangeId]), [
      ['c', 'd', 1],
      ['d', 'e', 2],
    ]);
  });

  it('property: after any sequence of inserts of a split lineage, ranges never overlap and lookups agree with a scan', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.nat(), fc.nat()), { maxLength: 30 }), (ops) => {
        // Build a lineage by splitting, then insert its descriptors in a random order.
        let ranges: RangeDescriptor[] = [desc(1, '', '', 1)];
        const history: RangeDescriptor[] = [ranges[0]!];
        let next = 2;
        for (const [k] of ops) {
          const key = b(k);
          const i = ranges.findIndex((r) => Buffer.compare(key, r.start) > 0 && (r.end.length === 0 || Buffer.compare(key, r.end) < 0));
          if (i < 0) continue;
          const { left, right } = splitRange(ranges[i]!, key, ids(next++));
          ranges = [...ranges.slice(0, i), left, right, ...ranges.slice(i + 1)];
          history.push(left, right);
        }
        const c = new RangeCache();
        const order = ops.map(([, a], i) => [a, i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        for (const d of history) c.insert(d);
        for (const [, i] of order) if (history[i]) c.insert(history[i]!);
        const all = c.all();
        for (let i = 1; i < all.length; i++) {
          const prev = all[i - 1]!.desc;
          assert.ok(prev.end.length > 0 && Buffer.compare(prev.end, all[i]!.desc.start) <= 0, 'sorted, non-overlapping');
        }
        // Every cached range is the newest of its id; after inserting the final set, the cache is exactly it.
        for (const d of ranges) c.insert(d);
        assert.deepEqual(c.all().map((r) => r.desc), ranges);
      }),
    );
  });
});
