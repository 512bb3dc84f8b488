// HotHistogram must expose exactly what prom-client's Histogram exposes for the same samples (dashboards,
// alerts and histogram_quantile read these lines), while observing without label hashing.
import assert from 'node:assert/strict';
import client from 'prom-client';
import { HotHistogram } from '../../../node/src/common/hot-histogram.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.1, 1];
// Values on, below, between and above the bounds, zero and negatives.
const SAMPLES = [0, -1, 0.0005, 0.001, 0.0010001, 0.005, 0.007, 0.01, 0.05, 0.1, 0.5, 1, 1.5, 100];

async function both(labelNames: string[], feed: (observe: (labels: Record<string, string>, v: number) => void) => void): Promise<{ prom: string; hot: string }> {
  const r1 = new client.Registry();
  const r2 = new client.Registry();
  for (const r of [r1, r2]) r.setDefaultLabels({ node: 'n1' });
  const ref = new client.Histogram({ name: 'x_seconds', help: 'h', labelNames, buckets: BUCKETS, registers: [r1] });
  const hot = new HotHistogram({ name: 'x_seconds', help: 'h', labelNames, buckets: BUCKETS, registers: [r2] });
  feed((labels, v) => {
    ref.observe(labels, v);
    hot.labels(labels).observe(v);
  });
  return { prom: await r1.metrics(), hot: await r2.metrics() };
}

describe('HotHistogram: prom-client exposition at a fraction of the cost', () => {
  it('labelled series: the same text as prom-client for the same samples', async () => {
    const { prom, hot } = await both(['group', 'stage'], (observe) => {
      for (const v of SAMPLES) observe({ group: '1', stage: 'persist' }, v);
      for (const v of SAMPLES.slice(3)) observe({ group: '2', stage: 'apply' }, v * 2);
    });
    assert.equal(hot, prom);
    assert.match(hot, /^x_seconds_bucket\{le="0.005",node="n1",group="1",stage="persist"\} 6$/m);
  });

  it('an unlabelled histogram, observed through the histogram itself', async () => {
    const r1 = new client.Registry();
    const r2 = new client.Registry();
    const ref = new client.Histogram({ name: 'y', help: 'h', buckets: BUCKETS, registers: [r1] });
    const hot = new HotHistogram({ name: 'y', help: 'h', buckets: BUCKETS, registers: [r2] });
    for (const v of SAMPLES) {
      ref.observe(v);
      hot.observe(v);
    }
    assert.equal(await r2.metrics(), await r1.metrics());
  });

  it('before any observation: an unlabelled histogram exports its zero series, a labelled one nothing (as prom-client)', async () => {
    for (const labelNames of [[], ['group']]) {
      const r1 = new client.Registry();
      const r2 = new client.Registry();
      new client.Histogram({ name: 'u', help: 'h', labelNames, buckets: BUCKETS, registers: [r1] });
      new HotHistogram({ name: 'u', help: 'h', labelNames, buckets: BUCKETS, registers: [r2] });
      const [prom, hot] = [await r1.metrics(), await r2.metrics()];
      assert.equal(hot, prom);
      assert.equal(/^u_count 0$/m.test(hot), labelNames.length === 0, hot);
    }
  });

  it('a sample in the wrong bucket would show (negative control of the comparison)', async () => {
    const { prom, hot } = await both(['group'], (observe) => observe({ group: '1' }, 0.005));
    const r = new client.Registry();
    const off = new HotHistogram({ name: 'x_seconds', help: 'h', labelNames: ['group'], buckets: BUCKETS, registers: [r] });
    r.setDefaultLabels({ node: 'n1' });
    off.labels({ group: '1' }).observe(0.0051); // the next bucket up
    assert.equal(hot, prom);
    assert.notEqual(await r.metrics(), prom);
  });

  it('NaN and infinities are dropped, not thrown into the caller; reset zeroes every series', async () => {
    const h = new HotHistogram({ name: 'z', help: 'h', labelNames: ['k'], buckets: BUCKETS });
    const c = h.labels({ k: 'a' });
    c.observe(Number.NaN);
    c.observe(Number.POSITIVE_INFINITY);
    c.observe(0.002);
    assert.equal(c.count, 1);
    assert.equal(c.sum, 0.002);
    h.reset();
    assert.equal(c.count, 0);
    assert.deepEqual([...c.counts], [0, 0, 0, 0, 0, 0]);
  });

  it('label sets must match the label names; buckets must increase', () => {
    const h = new HotHistogram({ name: 'w', help: 'h', labelNames: ['a', 'b'], buckets: BUCKETS });
    assert.throws(() => h.labels({ a: '1' } as never), /do not match/);
    assert.throws(() => h.labels({ a: '1', b: '2', c: '3' } as never), /do not match/);
    assert.equal(h.labels({ a: '1', b: '2' }), h.labels({ b: '2', a: '1' }), 'one child per label set');
    assert.throws(() => new HotHistogram({ name: 'v', help: 'h', buckets: [1, 1] }), /must increase/);
    assert.throws(() => h.observe(1), /without labels on a histogram labelled \{a, b\}/);
  });
});
