import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { decodeCommand, decodeResult, encodeCommand, encodedBound, encodeResult, resultError, DecodeError, BinaryWriter, BinaryReader } from '../../../node/src/kv/commands.js';
import { TxnConflictError, SnapshotTooOldError, SessionExpiredError } from '../../../node/src/kv/errors.js';
import { commandArb, plain, resultArb } from './arbitraries.js';

describe('kv commands: binary encoding', () => {
  it('commands round-trip (property)', () => {
    fc.assert(
      fc.property(commandArb({ anyTs: true }).map(plain), (cmd) => {
        const enc = encodeCommand(cmd);
        assert.deepEqual(decodeCommand(enc), cmd);
        assert.deepEqual(encodeCommand(decodeCommand(enc)), enc, 'canonical');
      }),
      { numRuns: 3000 },
    );
  });

  it('the size bound covers every command (one allocation), and a reserved prefix leaves the command bytes as they are (property)', () => {
    fc.assert(
      fc.property(commandArb({ anyTs: true }).map(plain), fc.nat(32), (cmd, prefix) => {
        const enc = encodeCommand(cmd);
        assert.ok(encodedBound(cmd) >= enc.length, `${cmd.type}: bound ${encodedBound(cmd)} < ${enc.length} bytes`);
        assert.deepEqual(encodeCommand(cmd, prefix).subarray(prefix), enc);
      }),
      { numRuns: 2000 },
    );
  });

  it('a decoded command shares no bytes with its input (the input buffer may be reused or pooled)', () => {
    const cmd = { type: 'txnPrepare' as const, proposedTs: 9, txnId: 't1', startTs: 5, primary: Buffer.from('p'), ttlTs: 100, readKeys: [Buffer.from('r1')], readRanges: [{ start: Buffer.from('a'), end: Buffer.from('b') }], writes: [{ op: 'put' as const, key: Buffer.from('k1'), value: Buffer.from('v1') }], participants: [Buffer.from('x')] };
    const input = Buffer.from(encodeCommand(cmd));
    const decoded = decodeCommand(input);
    input.fill(0xff);
    assert.deepEqual(decoded, cmd);
  });

  it('results round-trip (property)', () => {
    fc.assert(
      fc.property(resultArb.map(plain), (r) => {
        assert.deepEqual(decodeResult(encodeResult(r)), r);
      }),
      { numRuns: 2000 },
    );
  });

  it('encodings are compact', () => {
    const put = encodeCommand({ type: 'put', proposedTs: 1_838_000_000_000_000, key: Buffer.alloc(16), value: Buffer.alloc(100), session: { clientId: 'abcdefgh', seq: 12, firstUnacked: 10 } });
    assert.ok(put.length <= 16 + 100 + 8 + 9 + 2 + 2 + 3 + 3, `put command is ${put.length} bytes`);
  });

  it('rejects truncated, trailing and unknown input (property)', () => {
    fc.assert(
      fc.property(commandArb({ anyTs: true }), fc.nat(), (cmd, cut) => {
        const enc = encodeCommand(cmd);
        const n = cut % enc.length;
        assert.throws(() => decodeCommand(enc.subarray(0, n)), DecodeError);
        assert.throws(() => decodeCommand(Buffer.concat([enc, Buffer.from([0])])), DecodeError);
      }),
      { numRuns: 500 },
    );
    assert.throws(() => decodeCommand(Buffer.from([9, 0, 0, 0])), DecodeError);
    assert.throws(() => decodeResult(Buffer.from([1, 99])), DecodeError);
  });

  it('varints cover the whole safe integer range', () => {
    for (const v of [0, 1, 127, 128, 2 ** 32, 2 ** 53 - 1]) {
      const b = new BinaryWriter(1).varint(v).finish();
      assert.equal(new BinaryReader(b).varint(), v);
    }
    assert.throws(() => new BinaryWriter().varint(-1), RangeError);
    assert.throws(() => new BinaryWriter().varint(2 ** 53), RangeError);
  });

  it('error results map to typed errors', () => {
    const c = resultError({ type: 'error', code: 'TXN_CONFLICT', message: 'm', key: Buffer.from('k'), conflictTs: 5 });
    assert.ok(c instanceof TxnConflictError);
    assert.equal((c as TxnConflictError).key.toString(), 'k');
    assert.equal((c as TxnConflictError).conflictTs, 5);
    assert.ok(resultError({ type: 'error', code: 'SNAPSHOT_TOO_OLD', message: '', snapshotTs: 1, safePoint: 2 }) instanceof SnapshotTooOldError);
    assert.ok(resultError({ type: 'error', code: 'SESSION_EXPIRED', message: '' }) instanceof SessionExpiredError);
  });
});
