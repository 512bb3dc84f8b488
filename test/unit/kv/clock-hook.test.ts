// The test clock hook (KVS_TEST_CLOCK_FILE) used by the Jepsen `clock` fault: jumps, drift, return to
// the real clock, torn writes ignored; and off unless the env var is set.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSkewedClock, HybridClock, testClockHookPath, TEST_CLOCK_ENV } from '../../../node/src/kv/clock.js';
import { TS_PER_MS } from '../../../node/src/kv/state-machine.js';

describe('test clock hook (skew file)', () => {
  let dir: string;
  let real: number;
  const clock = (file: string): FileSkewedClock => new FileSkewedClock(file, { pollMs: 0, realMs: () => real });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kvs-clock-'));
    real = 1_000_000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('follows the real clock while the file is absent', () => {
    const c = clock(join(dir, 'skew.json'));
    real += 123;
    assert.equal(c.now(), 1_000_123);
  });

  it('jumps forward and backward from the moment it reads the file, and returns to real time', () => {
    const f = join(dir, 'skew.json');
    const c = clock(f);
    writeFileSync(f, JSON.stringify({ offsetMs: 30_000 }));
    c.poll();
    assert.equal(c.now(), 1_030_000);
    real += 10;
    assert.equal(c.now(), 1_030_010);
    writeFileSync(f, JSON.stringify({ offsetMs: -5000 }));
    c.poll();
    assert.equal(c.now(), 1_000_010 - 5000);
    writeFileSync(f, JSON.stringify({ offsetMs: 0 }));
    c.poll();
    assert.equal(c.now(), real);
  });

  it('drifts at the given rate', () => {
    const f = join(dir, 'skew.json');
    writeFileSync(f, JSON.stringify({ offsetMs: 0, rate: 1.5 }));
    const c = clock(f);
    real += 1000;
    assert.equal(c.now(), 1_001_500);
  });

  it('a drifting clock reads fractional ms, yet the HybridClock on it hands out integer timestamps (varint-encoded in every command)', () => {
    const f = join(dir, 'skew.json');
    writeFileSync(f, JSON.stringify({ offsetMs: 0, rate: 1.37 }));
    const c = clock(f);
    const h = new HybridClock(() => c.now());
    real += 333;
    assert.ok(!Number.isInteger(c.now()), 'the skewed wall clock itself has fractions');
    for (let i = 0; i < 5; i++) {
      const ts = h.now();
      assert.ok(Number.isSafeInteger(ts), `ts ${ts} is an integer`);
      real += 7;
    }
  });

  it('keeps the last skew on a torn or invalid file', () => {
    const f = join(dir, 'skew.json');
    writeFileSync(f, JSON.stringify({ offsetMs: 7000 }));
    const c = clock(f);
    writeFileSync(f, '{"offsetMs": 12');
    c.poll();
    assert.equal(c.now(), 1_007_000);
    writeFileSync(f, JSON.stringify({ offsetMs: 1, rate: -2 }));
    c.poll();
    assert.equal(c.now(), 1_007_000);
  });

  it('drives a HybridClock, which stays strictly increasing across a backward jump', () => {
    const f = join(dir, 'skew.json');
    const c = clock(f);
    const h = new HybridClock(() => c.now());
    const a = h.now();
    writeFileSync(f, JSON.stringify({ offsetMs: -60_000 }));
    c.poll();
    const b = h.now();
    assert.ok(b > a && b - a < TS_PER_MS);
  });

  it('is off unless the env var names a file', () => {
    assert.equal(testClockHookPath({}), undefined);
    assert.equal(testClockHookPath({ [TEST_CLOCK_ENV]: '' }), undefined);
    assert.equal(testClockHookPath({ [TEST_CLOCK_ENV]: '/tmp/x.json' }), '/tmp/x.json');
  });
});
