import assert from 'node:assert/strict';
import { LostReplyInjector, prefixEnd, toBuffer } from '../../../node/src/client/index.js';
import { parseTxnScript } from '../../../node/src/cli/txn-script.js';

describe('client: key helpers', () => {
  it('prefixEnd', () => {
    assert.deepEqual(prefixEnd(Buffer.from('abc')), Buffer.from('abd'));
    assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
    assert.equal(prefixEnd(Buffer.from([0xff, 0xff])), undefined);
    assert.equal(prefixEnd(Buffer.alloc(0)), undefined);
  });
  it('toBuffer', () => {
    assert.deepEqual(toBuffer('é'), Buffer.from([0xc3, 0xa9]));
    assert.deepEqual(toBuffer(new Uint8Array([1, 2])), Buffer.from([1, 2]));
  });
});

describe('client: LostReplyInjector decisions', () => {
  it('dropNext, method filter, probability', () => {
    const inj = new LostReplyInjector({ dropNext: 2, methods: ['Put'] });
    assert.equal(inj.shouldDrop('Get'), false);
    assert.equal(inj.shouldDrop('Put'), true);
    assert.equal(inj.shouldDrop('Put'), true);
    assert.equal(inj.shouldDrop('Put'), false);
    inj.setProbability(1);
    assert.equal(inj.shouldDrop('Put'), true);
    inj.disable();
    assert.equal(inj.shouldDrop('Put'), false);
    assert.equal(inj.totalDropped, 3);
    assert.equal(inj.seen.get('Put'), 5);
  });
});

describe('cli: txn script parser', () => {
  it('parses get/put/del, quotes, comments', () => {
    const ops = parseTxnScript('# comment\nget a\n\nput b hello world\nput "c d" "x\\ty"\ndel a\nDELETE e\n');
    assert.deepEqual(
      ops.map((o) => ({ ...o, line: undefined })),
      [
        { op: 'get', key: 'a', line: undefined },
        { op: 'put', key: 'b', value: 'hello world', line: undefined },
        { op: 'put', key: 'c d', value: 'x\ty', line: undefined },
        { op: 'del', key: 'a', line: undefined },
        { op: 'del', key: 'e', line: undefined },
      ],
    );
  });
  it('reports errors with line numbers', () => {
    assert.throws(() => parseTxnScript('get a\nfrob b'), /line 2: unknown operation "frob"/);
    assert.throws(() => parseTxnScript('put a'), /line 1: put needs a value/);
    assert.throws(() => parseTxnScript('get'), /line 1: get needs a key/);
    assert.throws(() => parseTxnScript('get a b'), /line 1: unexpected text after the key/);
    assert.throws(() => parseTxnScript('get "a'), /line 1: unterminated quoted string/);
  });
});
