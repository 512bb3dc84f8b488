// Range descriptors, epochs and split-key choice (stage 2 groundwork): golden cases + properties.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  RangeDescriptorError,
  adminEpochMatches,
  changeReplicas,
  containsKey,
  containsSpan,
  decodeDescriptor,
  encodeDescriptor,
  isNewerEpoch,
  requestEpochMatches,
  splitRange,
  type RangeDescriptor,
} from '../../../node/src/meta/range-descriptor.js';
import { chooseSplitKey } from '../../../node/src/meta/split-key.js';

const b = (s: string) => Buffer.from(s);
const whole = (): RangeDescriptor => ({
  rangeId: 1,
  start: Buffer.alloc(0),
  end: Buffer.alloc(0),
  epoch: { confVer: 3, version: 1 },
  replicas: [
    { storeId: 1, peerId: 1, role: 'voter' },
    { storeId: 2, peerId: 2, role: 'voter' },
    { storeId: 3, peerId: 3, role: 'voter' },
  ],
});
const ids = (rangeId: number, base: number) => ({ rangeId, peerIds: new Map([[1, base + 1], [2, base + 2], [3, base + 3]]) });

describe('meta/range-descriptor', () => {
  it('containsKey / containsSpan treat an empty end as +∞', () => {
    const d = { start: b('b'), end: b('m') };
    assert.equal(containsKey(d, b('a')), false);
    assert.equal(containsKey(d, b('b')), true);
    assert.equal(containsKey(d, b('lzzz')), true);
    assert.equal(containsKey(d, b('m')), false);
    assert.equal(containsKey({ start: Buffer.alloc(0), end: Buffer.alloc(0) }, b('\xff\xff')), true);
    assert.equal(containsSpan(d, b('c'), b('m')), true);
    assert.equal(containsSpan(d, b('c'), Buffer.alloc(0)), false);
    assert.equal(containsSpan({ start: b('b'), end: Buffer.alloc(0) }, b('c'), Buffer.alloc(0)), true);
  });

  it('split: left keeps id and peers, right gets the new ids, both version + 1, confVer unchanged', () => {
    const { left, right } = splitRange(whole(), b('m'), ids(2, 10));
    assert.deepEqual(left, { ...whole(), end: b('m'), epoch: { confVer: 3, version: 2 } });
    assert.deepEqual(right, {
      rangeId: 2,
      start: b('m'),
      end: Buffer.alloc(0),
      epoch: { confVer: 3, version: 2 },
      replicas: [
        { storeId: 1, peerId: 11, role: 'voter' },
        { storeId: 2, peerId: 12, role: 'voter' },
        { storeId: 3, peerId: 13, role: 'voter' },
      ],
    });
    // A request routed with the parent's epoch no longer matches either half.
    assert.equal(requestEpochMatches(left.epoch, whole().epoch), false);
    assert.equal(isNewerEpoch(left.epoch, whole().epoch), true);
  });

  it('split refuses keys at or outside the bounds, a reused range id, a missing peer id', () => {
    const { left } = splitRange(whole(), b('m'), ids(2, 10));
    assert.throws(() => splitRange(left, Buffer.alloc(0), ids(3, 20)), RangeDescriptorError);
    assert.throws(() => splitRange(left, b('m'), ids(3, 20)), RangeDescriptorError);
    assert.throws(() => splitRange(left, b('z'), ids(3, 20)), RangeDescriptorError);
    assert.throws(() => splitRange(left, b('c'), ids(1, 20)), /new range id/);
    assert.throws(() => splitRange(left, b('c'), { rangeId: 3, peerIds: new Map([[1, 21]]) }), /no new peer id for store 2/);
  });

  it('replica changes bump confVer by the number of changes; a request epoch (version only) still matches', () => {
    const d = changeReplicas(whole(), [{ kind: 'addLearner', storeId: 4, peerId: 7 }]);
    assert.deepEqual(d.epoch, { confVer: 4, version: 1 });
    const d2 = changeReplicas(d, [{ kind: 'promote', storeId: 4 }, { kind: 'demote', storeId: 1 }]);
    assert.deepEqual(d2.epoch, { confVer: 6, version: 1 });
    const d3 = changeReplicas(d2, [{ kind: 'remove', storeId: 1 }]);
    assert.deepEqual(d3.replicas.map((r) => [r.storeId, r.role]), [[2, 'voter'], [3, 'voter'], [4, 'voter']]);
    assert.equal(requestEpochMatches(d3.epoch, whole().epoch), true);
    assert.equal(adminEpochMatches(d3.epoch, whole().epoch), false);
    assert.throws(() => changeReplicas(whole(), [{ kind: 'addLearner', storeId: 1, peerId: 9 }]), /already holds/);
    assert.throws(() => changeReplicas(whole(), [{ kind: 'remove', storeId: 9 }]), /no replica on store 9/);
    assert.throws(() => changeReplicas(whole(), [{ kind: 'remove', storeId: 1 }, { kind: 'remove', storeId: 2 }, { kind: 'remove', storeId: 3 }]), /no voter/);
  });

  it('codec: canonical round trip; corrupt input is a typed error', () => {
    const arb = fc.record({
      rangeId: fc.integer({ min: 1, max: 2 ** 40 }),
      start: fc.uint8Array({ maxLength: 12 }),
      extra: fc.uint8Array({ minLength: 1, maxLength: 12 }),
      open: fc.boolean(),
      confVer: fc.nat(),
      version: fc.nat(),
      n: fc.integer({ min: 1, max: 7 }),
    });
    fc.assert(
      fc.property(arb, (x) => {
        const start = Buffer.from(x.start);
        const d: RangeDescriptor = {
          rangeId: x.rangeId,
          start,
          end: x.open ? Buffer.alloc(0) : Buffer.concat([start, Buffer.from(x.extra)]),
          epoch: { confVer: x.confVer, version: x.version },
          replicas: Array.from({ length: x.n }, (_, i) => ({ storeId: i + 1, peerId: 100 + i, role: i === 0 ? 'voter' : i % 2 ? 'learner' : 'voter' })),
        };
        const enc = encodeDescriptor(d);
        assert.deepEqual(decodeDescriptor(enc), d);
        assert.ok(encodeDescriptor(decodeDescriptor(enc)).equals(enc));
      }),
    );
    const enc = encodeDescriptor(whole());
    assert.throws(() => decodeDescriptor(enc.subarray(0, enc.length - 1)), RangeDescriptorError);
    assert.throws(() => decodeDescriptor(Buffer.concat([enc, Buffer.from([0])])), /trailing/);
    const badRole = Buffer.from(enc);
    badRole[badRole.length - 1] = 9;
    assert.throws(() => decodeDescriptor(badRole), /unknown replica role/);
  });
});

describe('meta/split-key', () => {
  const s = (k: string, bytes: number) => ({ key: b(k), bytes });
  it('golden: even sizes split in the middle; a heavy key starts the right half; ties take the first', () => {
    assert.deepEqual(chooseSplitKey([s('a', 10), s('b', 10), s('c', 10), s('d', 10)], Buffer.alloc(0)), { key: b('c'), leftBytes: 20, totalBytes: 40 });
    assert.deepEqual(chooseSplitKey([s('a', 1), s('b', 1), s('c', 100), s('d', 1)], Buffer.alloc(0))?.key, b('c'));
    assert.deepEqual(chooseSplitKey([s('a', 10), s('b', 10), s('c', 10)], Buffer.alloc(0))?.key, b('b'));
  });
  it('no split: one key, no bytes, or only the range start as a candidate', () => {
    assert.equal(chooseSplitKey([s('a', 100)], Buffer.alloc(0)), undefined);
    assert.equal(chooseSplitKey([s('a', 0), s('b', 0)], Buffer.alloc(0)), undefined);
    assert.equal(chooseSplitKey([s('a', 0), s('b', 10)], Buffer.alloc(0)), undefined, 'left half would be empty');
  });
  it('the key is strictly inside the range and leftBytes counts exactly the keys before it (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 40 }), fc.array(fc.nat({ max: 1000 }), { minLength: 40, maxLength: 40 }), (keys, sizes) => {
        const sorted = keys.map(b).sort(Buffer.compare);
        const samples = sorted.map((key, i) => ({ key, bytes: sizes[i]! }));
        const c = chooseSplitKey(samples, sorted[0]!);
        if (c === undefined) return;
        assert.ok(Buffer.compare(c.key, sorted[0]!) > 0);
        assert.ok(c.leftBytes > 0 && c.leftBytes <= c.totalBytes);
        let left = 0;
        for (const x of samples) {
          if (x.key.equals(c.key)) break;
          left += x.bytes;
        }
        assert.equal(left, c.leftBytes);
      }),
    );
  });
  it('refuses unsorted or negative samples', () => {
    assert.throws(() => chooseSplitKey([s('b', 1), s('a', 1)], Buffer.alloc(0)), RangeError);
    assert.throws(() => chooseSplitKey([s('a', -1), s('b', 1)], Buffer.alloc(0)), RangeError);
  });
});
