// Turning TLS on or off in a running cluster (operator/src/controller/tls-mode.ts): the template goes to
// transition while any pod runs the far mode, so no plaintext-only node ever has to talk to a TLS-only
// one. Checked on the pure decision (a seeded simulation of rolls, crashes and spec changes, with a
// negative control that follows the spec directly) and through plan() (template, status, events).
import { strict as assert } from 'node:assert';
import type { TlsSpec } from '../../../operator/src/api/types.js';
import { plan } from '../../../operator/src/controller/plan.js';
import { ANNOTATION_TLS_MODE, clusterTlsMode, decideTls, podTlsMode, tlsOfTemplate, type TlsDecision, type TlsMode } from '../../../operator/src/controller/tls-mode.js';
import { NOW, cluster, healthyStatus, membersCm, pods, reports, sts } from './fixtures.js';

const TLS: TlsSpec = { secretName: 'demo-tls', adminIdentities: ['ops'] };

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Decide = (desired: TlsSpec | undefined, modes: TlsMode[], previous: TlsSpec | undefined) => TlsDecision;
const naive: Decide = (desired) => ({ tls: desired, mode: desired === undefined ? 'plain' : desired.transition ? 'transition' : 'tls' });

/**
 * A cluster of n pods under the operator's roll (one pod not on the template restarts per step), with
 * random pod crashes (a crashed pod comes back on the current template) and random spec changes.
 * Returns the first state holding a plaintext-only and a TLS-only node, or undefined.
 */
function simulate(decide: Decide, seed: number, n = 3, steps = 200): { bad?: TlsMode[]; final: TlsMode[]; rolls: number } {
  const r = rng(seed);
  const specs: Array<TlsSpec | undefined> = [undefined, TLS, { ...TLS, transition: true }];
  let desired: TlsSpec | undefined = r() < 0.5 ? undefined : TLS;
  let modes: TlsMode[] = Array.from({ length: n }, () => (desired ? 'tls' : 'plain'));
  let template: TlsSpec | undefined = desired;
  let rolls = 0;
  for (let i = 0; i < steps; i++) {
    if (r() < 0.05) desired = specs[Math.floor(r() * specs.length)];
    const d = decide(desired, modes, template);
    template = d.tls;
    const behind = modes.map((m, k) => [m, k] as const).filter(([m]) => m !== d.mode);
    if (r() < 0.1) modes[Math.floor(r() * n)] = d.mode; // a crash: back on the current template
    else if (behind.length > 0) {
      modes[behind[0]![1]] = d.mode;
      rolls++;
    }
    modes = [...modes];
    if (modes.includes('plain') && modes.includes('tls')) return { bad: modes, final: modes, rolls };
  }
  // Let it settle on the last spec: every pod ends on the spec's mode.
  for (let i = 0; i < 4 * n; i++) {
    const d = decide(desired, modes, template);
    template = d.tls;
    const k = modes.findIndex((m) => m !== d.mode);
    if (k < 0) break;
    modes[k] = d.mode;
    rolls++;
    if (modes.includes('plain') && modes.includes('tls')) return { bad: [...modes], final: modes, rolls };
  }
  return { final: modes, rolls };
}

describe('operator: turning TLS on and off in a running cluster (tls-mode.ts)', () => {
  it('plain → tls: every pod goes through transition first (2 rolls), and the template has the TLS files throughout', () => {
    let modes: TlsMode[] = ['plain', 'plain', 'plain'];
    const seen: TlsMode[][] = [];
    for (let i = 0; i < 10; i++) {
      const d = decideTls(TLS, modes, undefined);
      assert.deepEqual(d.tls?.secretName, 'demo-tls');
      const k = modes.findIndex((m) => m !== d.mode);
      if (k < 0) break;
      modes = modes.map((m, j) => (j === k ? d.mode : m));
      seen.push(modes);
    }
    assert.deepEqual(seen, [
      ['transition', 'plain', 'plain'],
      ['transition', 'transition', 'plain'],
      ['transition', 'transition', 'transition'],
      ['tls', 'transition', 'transition'],
      ['tls', 'tls', 'transition'],
      ['tls', 'tls', 'tls'],
    ]);
  });

  it('tls → plain (spec.tls removed): back through transition with the TLS settings the template had', () => {
    const d = decideTls(undefined, ['tls', 'tls', 'tls'], TLS);
    assert.equal(d.mode, 'transition');
    assert.deepEqual(d.tls, { ...TLS, transition: true });
    assert.match(d.transition!.message, /turning TLS off: 3 of 3 node\(s\) still run tls/);
    assert.equal(decideTls(undefined, ['transition', 'transition'], { ...TLS, transition: true }).mode, 'plain');
    // Nothing to go back through (no TLS settings known): the spec is followed as it is.
    assert.equal(decideTls(undefined, ['tls'], undefined).mode, 'plain');
  });

  it('spec.tls.transition holds the cluster in transition; a new cluster starts in the spec\'s mode', () => {
    assert.equal(decideTls({ ...TLS, transition: true }, ['plain', 'tls'], TLS).mode, 'transition');
    assert.equal(decideTls({ ...TLS, transition: true }, ['plain', 'tls'], TLS).transition, undefined);
    assert.equal(decideTls(TLS, [], undefined).mode, 'tls');
    assert.equal(decideTls(undefined, [], undefined).mode, 'plain');
  });

  it('leaving transition waits until every pod of the StatefulSet is observed (a pod being recreated may run the far mode)', () => {
    const held = decideTls(TLS, ['transition', 'transition'], { ...TLS, transition: true }, false);
    assert.equal(held.mode, 'transition');
    assert.match(held.transition!.message, /waiting until every pod/);
    assert.equal(decideTls(TLS, ['transition', 'transition', 'transition'], { ...TLS, transition: true }, true).mode, 'tls');
    // Not in transition yet: nothing to wait for.
    assert.equal(decideTls(TLS, ['tls', 'tls'], TLS, false).mode, 'tls');
  });

  it('500 seeded runs of rolls, crashes and spec flips never hold a plaintext-only and a TLS-only node at once, and settle on the spec', () => {
    let rolls = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const out = simulate(decideTls, seed);
      assert.equal(out.bad, undefined, `seed ${seed}: ${out.bad?.join(',')}`);
      assert.equal(new Set(out.final).size, 1, `seed ${seed} settles on one mode: ${out.final.join(',')}`);
      rolls += out.rolls;
    }
    assert.ok(rolls > 500, `the runs roll pods (${rolls})`);
  });

  it('negative control: following the spec directly puts plaintext-only and TLS-only nodes side by side', () => {
    const bad = Array.from({ length: 100 }, (_, i) => simulate(naive, i + 1)).filter((o) => o.bad !== undefined).length;
    assert.ok(bad > 50, `${bad} of 100 runs reach a plain+tls state`);
  });

  it('a pod\'s mode: its annotation, else its environment (pods created before the annotation existed)', () => {
    assert.equal(podTlsMode({ metadata: { annotations: { [ANNOTATION_TLS_MODE]: 'transition' } } }), 'transition');
    const withEnv = (env: Array<{ name: string; value: string }>) => ({ metadata: {}, spec: { containers: [{ name: 'kvs', env }] } });
    assert.equal(podTlsMode(withEnv([])), 'plain');
    assert.equal(podTlsMode(withEnv([{ name: 'KVS_CERT_FILE', value: '/x' }])), 'tls');
    assert.equal(podTlsMode(withEnv([{ name: 'KVS_CERT_FILE', value: '/x' }, { name: 'KVS_TLS_TRANSITION', value: 'true' }])), 'transition');
    assert.equal(clusterTlsMode(['tls', 'transition']), 'transition');
    assert.equal(clusterTlsMode(['tls', 'tls']), 'tls');
    assert.equal(clusterTlsMode([]), undefined);
  });

  it('plan(): spec.tls added to a running plaintext cluster → the template runs transition, Progressing says why, one event; then tls', () => {
    const c = cluster({ tls: TLS }, healthyStatus(3));
    const observed = { statefulSet: sts(3), pods: pods(3), pvcs: [], nodes: reports([{ id: 1, pod: 'demo-0' }, { id: 2, pod: 'demo-1' }, { id: 3, pod: 'demo-2' }], 1), membersConfig: membersCm(3), now: NOW };
    const p = plan(c, observed);
    const set = p.apply.find((o) => o.kind === 'StatefulSet') as any;
    const tpl = set.spec.template;
    assert.equal(tpl.metadata.annotations[ANNOTATION_TLS_MODE], 'transition');
    const env = Object.fromEntries(tpl.spec.containers[0].env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    assert.equal(env.KVS_TLS_TRANSITION, 'true');
    assert.equal(env.KVS_ADMIN_IDENTITIES, 'ops');
    assert.deepEqual(tlsOfTemplate(set.spec), { secretName: 'demo-tls', adminIdentities: ['ops'], transition: true });
    const prog = p.status.conditions!.find((x) => x.type === 'Progressing')!;
    assert.equal(prog.reason, 'TlsTransition');
    assert.match(prog.message, /turning TLS on: 3 of 3 node\(s\) still run plain/);
    assert.equal(p.status.tlsMode, 'plain');
    assert.deepEqual(p.events.filter((e) => e.reason === 'TlsModeChanging').map((e) => e.note.slice(0, 24)), ['TLS plain → transition: ']);
    // Every pod restarted in transition: the template goes to tls, with one more event.
    const inTransition = pods(3).map((x) => ({ ...x, metadata: { ...x.metadata, annotations: { [ANNOTATION_TLS_MODE]: 'transition' } } }));
    const p2 = plan(c, { ...observed, statefulSet: set, pods: inTransition });
    const tpl2 = (p2.apply.find((o) => o.kind === 'StatefulSet') as any).spec.template;
    assert.equal(tpl2.metadata.annotations[ANNOTATION_TLS_MODE], 'tls');
    assert.ok(!tpl2.spec.containers[0].env.some((e: any) => e.name === 'KVS_TLS_TRANSITION'));
    assert.equal(p2.status.tlsMode, 'transition');
    assert.equal(p2.events.filter((e) => e.reason === 'TlsModeChanging').length, 1);
  });
});
