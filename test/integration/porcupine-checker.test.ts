// The porcupine checker itself (test/porcupine) on known histories: a linearizable one passes, a
// non-linearizable one fails with exit 1 and an HTML visualization. Guards against a checker that
// accepts everything.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkLinearizable, porcupineBinary, repoRoot } from '../helpers/history-porcupine.js';
import { HistoryRecorder } from '../helpers/history-recorder.js';

describe('porcupine checker (Go) on known histories', function () {
  this.timeout(300_000); // first build may fetch the module

  before(function () {
    porcupineBinary();
  });

  it('accepts a linearizable history (with an unknown-outcome write)', function () {
    const r = checkLinearizable(join(repoRoot(), 'test', 'porcupine', 'testdata', 'linearizable.json'));
    assert.equal(r.exitCode, 0, r.verdict);
    assert.match(r.verdict, /^LINEARIZABLE/);
  });

  it('rejects a stale read with exit 1 and writes the visualization', function () {
    const r = checkLinearizable(join(repoRoot(), 'test', 'porcupine', 'testdata', 'not-linearizable.json'));
    assert.equal(r.exitCode, 1, r.verdict);
    assert.match(r.verdict, /^NOT LINEARIZABLE/);
    assert.ok(r.htmlFile && existsSync(r.htmlFile), 'visualization written');
  });

  it('checks histories produced by the TS recorder (lost CAS success is caught)', async function () {
    const h = new HistoryRecorder();
    await h.record(0, { op: 'put', key: 'k', value: 'a' }, async () => ({ ok: true }));
    await h.record(1, { op: 'cas', key: 'k', expected: 'a', value: 'b' }, async () => ({ ok: true }));
    await h.record(2, { op: 'get', key: 'k' }, async () => ({ found: true, value: 'b' }));
    await h.record(0, { op: 'put', key: 'k2', value: 'x' }, async () => {
      throw new Error('deadline exceeded');
    });
    assert.equal(h.counts.unknown, 1);
    assert.equal(checkLinearizable(h.ops).exitCode, 0);
    // Same, but the read misses the acknowledged CAS: not linearizable.
    h.ops[2]!.output = { found: true, value: 'a' };
    assert.equal(checkLinearizable(h.ops).exitCode, 1);
  });
});
