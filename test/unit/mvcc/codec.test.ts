import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { decodeBytes, encodeBytes, encodedLength, readInvertedU64BE, readU64BE, writeInvertedU64BE, writeU64BE, CodecError } from '../../../node/src/mvcc/codec.js';
import { dataKey, decodeDataKey, dataKeyPrefix, dataKeyPrefixEnd, dataRange, parseSessionKey, sessionHeaderKey, sessionResultKey, sessionSpace, isDataKey } from '../../../node/src/mvcc/keyspace.js';

const bytesArb = fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u));
// Keys biased towards the interesting bytes and group boundaries.
const edgyArb = fc.array(fc.constantFrom(0x00, 0x01, 0xf7, 0xfe, 0xff, 0x61), { maxLength: 26 }).map((a) => Buffer.from(a));
const keyArb = fc.oneof(bytesArb, edgyArb);
const tsArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

describe('mvcc codec: memcomparable bytes', () => {
  it('matches TiKV encode_bytes vectors', () => {
    assert.equal(encodeBytes(Buffer.alloc(0)).toString('hex'), '0000000000000000f7');
    assert.equal(encodeBytes(Buffer.from([1, 2, 3])).toString('hex'), '0102030000000000fa');
    assert.equal(encodeBytes(Buffer.from([1, 2, 3, 0])).toString('hex'), '0102030000000000fb');
    assert.equal(encodeBytes(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])).toString('hex'), '0102030405060708ff0000000000000000f7');
    assert.equal(encodeBytes(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9])).toString('hex'), '0102030405060708ff0900000000000000f8');
  });

  it('round-trips, has the announced length, and preserves byte order (property)', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        const ea = encodeBytes(a);
        const eb = encodeBytes(b);
        assert.equal(ea.length, encodedLength(a.length));
        assert.deepEqual(decodeBytes(ea).key, a);
        assert.equal(decodeBytes(ea).next, ea.length);
        assert.equal(Math.sign(Buffer.compare(ea, eb)), Math.sign(Buffer.compare(a, b)));
        // Prefix-free: appending anything keeps the order of distinct keys.
        if (!a.equals(b)) {
          const sa = Buffer.concat([ea, Buffer.from([0xff, 0xff])]);
          const sb = Buffer.concat([eb, Buffer.from([0x00])]);
          assert.equal(Math.sign(Buffer.compare(sa, sb)), Math.sign(Buffer.compare(a, b)));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects malformed encodings', () => {
    assert.throws(() => decodeBytes(Buffer.from([1, 2, 3])), CodecError);
    assert.throws(() => decodeBytes(Buffer.from('0102030000000000ff00', 'hex').subarray(0, 9)), CodecError);
    assert.throws(() => decodeBytes(Buffer.from('0102030000000100fa', 'hex')), /non-zero/); // non-zero pad
    assert.throws(() => decodeBytes(Buffer.from('0000000000000000f0', 'hex')), CodecError); // bad marker
  });

  it('u64 and inverted u64 round-trip and order', () => {
    fc.assert(
      fc.property(tsArb, tsArb, (x, y) => {
        const bx = Buffer.alloc(8);
        const by = Buffer.alloc(8);
        writeU64BE(bx, 0, x);
        writeU64BE(by, 0, y);
        assert.equal(readU64BE(bx, 0), x);
        assert.equal(Math.sign(Buffer.compare(bx, by)), Math.sign(x - y));
        writeInvertedU64BE(bx, 0, x);
        writeInvertedU64BE(by, 0, y);
        assert.equal(readInvertedU64BE(bx, 0), x);
        assert.equal(Math.sign(Buffer.compare(bx, by)), Math.sign(y - x));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('mvcc keyspace', () => {
  it('data keys order by (user key asc, version desc) and decode (property)', () => {
    fc.assert(
      fc.property(keyArb, tsArb, keyArb, tsArb, (k1, t1, k2, t2) => {
        const a = dataKey(k1, t1);
        const b = dataKey(k2, t2);
        assert.ok(isDataKey(a));
        assert.deepEqual(decodeDataKey(a), { userKey: k1, ts: t1 });
        const expected = Buffer.compare(k1, k2) !== 0 ? Math.sign(Buffer.compare(k1, k2)) : Math.sign(t2 - t1);
        assert.equal(Math.sign(Buffer.compare(a, b)), expected);
        // Every version of k1 lies in [prefix(k1), prefixEnd(prefix(k1))) and no version of another key does.
        const lo = dataKeyPrefix(k1);
        const hi = dataKeyPrefixEnd(lo);
        const inside = Buffer.compare(b, lo) >= 0 && Buffer.compare(b, hi) < 0;
        assert.equal(inside, k1.equals(k2));
      }),
      { numRuns: 3000 },
    );
  });

  it('user ranges map to engine ranges (property)', () => {
    fc.assert(
      fc.property(keyArb, keyArb, keyArb, tsArb, (start, end, k, ts) => {
        const r = dataRange(start, end);
        const dk = dataKey(k, ts);
        const inEngine = Buffer.compare(dk, r.start) >= 0 && Buffer.compare(dk, r.end) < 0;
        const inUser = Buffer.compare(k, start) >= 0 && (end.length === 0 || Buffer.compare(k, end) < 0);
        assert.equal(inEngine, inUser);
      }),
      { numRuns: 3000 },
    );
  });

  it('session keys parse back and stay within their group', () => {
    const h = sessionHeaderKey(7, 'client-é');
    const r = sessionResultKey(7, 'client-é', 2 ** 40 + 3);
    assert.deepEqual(parseSessionKey(h), { clientId: 'client-é', seq: undefined });
    assert.deepEqual(parseSessionKey(r), { clientId: 'client-é', seq: 2 ** 40 + 3 });
    const sp = sessionSpace(7);
    for (const k of [h, r]) assert.ok(Buffer.compare(k, sp.start) >= 0 && Buffer.compare(k, sp.end) < 0);
    const other = sessionSpace(8);
    assert.ok(Buffer.compare(r, other.start) < 0);
    assert.ok(Buffer.compare(h, r) < 0, 'the header sorts before its results');
  });
});
