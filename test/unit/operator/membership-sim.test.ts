// The membership state machine end to end without Kubernetes: a simulated StatefulSet (pods appear and
// disappear with its size, PVCs deleted on scale-in), the FakeNodeAdmin as the Raft group, and the real
// planner + step executor, pass after pass. Checked after every pass: raft ids are never reused, the
// StatefulSet never shrinks while its highest pod is still a member, a pod never starts on a volume of
// another raft id, voters never drop below a healthy majority. "Killing the operator" = dropping its
// status between passes (everything it needs is re-derived from the members ConfigMap and the nodes).
import { strict as assert } from 'node:assert';
import type { V1StatefulSet } from '@kubernetes/client-node';
import { plan, type Plan } from '../../../operator/src/controller/plan.js';
import { executeStep } from '../../../operator/src/controller/reconcile.js';
import { parseEnvFile } from '../../../node/src/server/config.js';
import { FakeNodeAdmin } from '../../../operator/src/runtime/admin.js';
import type { KvsCluster } from '../../../operator/src/api/types.js';
import type { Writer } from '../../../operator/src/runtime/kube.js';
import type { NodeReport } from '../../../operator/src/controller/status.js';
import { NOW, cluster, pod, sts } from './fixtures.js';

class World {
  replicas = 0;
  stsExists = false;
  /** PVC name → raft id recorded in its data dir (KVS_RAFT_ID file). */
  pvcs = new Map<string, number>();
  members: Record<string, string> | undefined;
  admin = new FakeNodeAdmin();
  c: KvsCluster;
  everAssigned = new Map<number, string>();
  log: string[] = [];
  deleted: string[] = [];
  /** Data-dir incarnation per PVC (pod name), minted when a pod first starts on an empty volume. */
  incarnations = new Map<string, string>();
  /** What the group recorded per raft id (first incarnation heard; the node side replicates it). */
  recorded = new Map<number, string>();
  private incSeq = 0;
  /** The pass clock (failover timers). */
  now = NOW;

  constructor(replicas: number) {
    this.c = cluster({ replicas });
  }

  podNames(): string[] {
    return Array.from({ length: this.replicas }, (_, i) => `demo-${i}`);
  }

  /** The kubelet + node: a pod starts, reads its env file, checks its volume's identity. */
  startPod(name: string): void {
    const env = parseEnvFile(this.members?.[name] ?? '');
    const id = Number(env['KVS_RAFT_ID']);
    assert.ok(id > 0, `${name} started without a raft id`);
    const onDisk = this.pvcs.get(name);
    assert.ok(onDisk === undefined || onDisk === id, `${name} would start as raft id ${id} on a volume of raft id ${onDisk}`);
    this.pvcs.set(name, id);
    if (!this.incarnations.has(name)) this.incarnations.set(name, (++this.incSeq).toString(16).padStart(32, '0'));
    const bootstrap = env['KVS_JOIN'] !== 'true';
    this.admin.addNode(name, id, bootstrap && !this.admin.config.has(id) ? 'voter' : undefined);
    if (bootstrap && this.admin.leaderId === 0) this.admin.leaderId = id;
  }

  async pass(): Promise<Plan> {
    // The node side of identity: the group records the first incarnation of each member; a member whose
    // pod now runs on another one is refused (not ready, never active).
    const podOfId = new Map([...this.admin.nodes].map(([p, id]) => [id, p]));
    const refused = new Set<number>();
    for (const [id, m] of this.admin.config) {
      const p = podOfId.get(id);
      const inc = p === undefined ? undefined : this.incarnations.get(p);
      if (inc === undefined) continue;
      if (!this.recorded.has(id)) this.recorded.set(id, inc);
      if (this.recorded.get(id) !== inc) {
        refused.add(id);
        m.recentActive = false;
      } else if (!this.admin.down.has(p!)) m.recentActive = true;
    }
    const pods = this.podNames().map((n) => {
      const notReady = refused.has(this.admin.nodes.get(n) ?? 0) || this.admin.down.has(n);
      return { ...pod(Number(n.split('-')[1]), notReady ? 'starting' : 'ready'), status: { ...pod(0, notReady ? 'starting' : 'ready').status!, podIP: n } };
    });
    const nodes: Record<string, NodeReport> = {};
    for (const n of this.podNames()) {
      try {
        const r = await this.admin.status(n);
        r.incarnation = this.incarnations.get(n) ?? '';
        r.identityRefused = refused.has(r.raftId);
        for (const m of r.members) {
          m.incarnation = this.recorded.get(m.raftId) ?? '';
          m.refused = refused.has(m.raftId);
        }
        nodes[n] = r;
      } catch {
        /* down */
      }
    }
    const observed = {
      ...(this.stsExists ? { statefulSet: sts(this.replicas) as V1StatefulSet } : {}),
      pods: this.stsExists ? pods : [],
      pvcs: [],
      nodes,
      ...(this.members ? { membersConfig: this.members } : {}),
      now: this.now,
    };
    const p = plan(this.c, observed);
    if (p.apply.length === 0) return p; // paused
    this.members = (p.apply.find((o) => o.metadata?.name === 'demo-members') as { data: Record<string, string> }).data;
    for (const [pname, a] of Object.entries(p.members.pods)) {
      const prev = this.everAssigned.get(a.raftId);
      assert.ok(prev === undefined || prev === pname, `raft id ${a.raftId} reused: ${prev} then ${pname}`);
      this.everAssigned.set(a.raftId, pname);
    }
    const want = (p.apply.find((o) => o.kind === 'StatefulSet') as V1StatefulSet).spec!.replicas!;
    if (want < this.replicas) {
      const top = `demo-${this.replicas - 1}`;
      assert.ok(!this.admin.config.has(this.pvcs.get(top)!), `StatefulSet shrank while ${top} is still a member`);
      for (let i = want; i < this.replicas; i++) {
        this.admin.nodes.delete(`demo-${i}`);
        this.pvcs.delete(`demo-${i}`); // whenScaled: Delete
      }
    }
    const before = this.replicas;
    this.replicas = want;
    this.stsExists = true;
    for (let i = before; i < want; i++) this.startPod(`demo-${i}`);
    if (p.next.action === 'Membership') {
      const step = p.next.step;
      const writer = {
        // A deleted pod is recreated by the StatefulSet at once, on its PVC (a new, empty one if it was deleted).
        deletePod: async (_ns: string, n: string) => {
          this.deleted.push(n);
          this.admin.nodes.delete(n);
          this.admin.down.delete(n);
          this.startPod(n);
        },
        deletePvc: async (_ns: string, claim: string) => {
          const n = claim.replace(/^data-/, '');
          this.deleted.push(claim);
          this.pvcs.delete(n);
          this.incarnations.delete(n);
        },
      } as unknown as Writer;
      try {
        // Every answering node's address (here: its pod name) for a drain.
        const ev = await executeStep(step, p.status.leader, 'db', { admin: this.admin, writer }, Object.keys(nodes));
        this.log.push(`${ev.reason}: ${ev.note}`);
      } catch (e) {
        // The reconciler records MembershipStepFailed and backs off; the next pass plans again.
        this.log.push(`MembershipStepFailed: ${step.type}: ${(e as Error).message}`);
      }
    }
    const voters = [...this.admin.config].filter(([, m]) => m.role === 'voter');
    assert.ok(voters.length >= 1, 'no voter left');
    // Never fewer healthy voters than a majority of the voters while a leader is known (a removal for a
    // replacement must not cost the quorum).
    const healthyVoters = voters.filter(([id, m]) => id === this.admin.leaderId || m.recentActive);
    assert.ok(healthyVoters.length >= Math.floor(voters.length / 2) + 1, `voters ${voters.map(([id]) => id)} with only ${healthyVoters.length} healthy`);
    this.c = { ...this.c, status: p.status };
    return p;
  }

  async converge(maxPasses = 60, between?: (i: number) => void): Promise<Plan> {
    let last: Plan | undefined;
    for (let i = 0; i < maxPasses; i++) {
      between?.(i);
      last = await this.pass();
      if (last.next.action === 'Done' && last.status.phase === 'Running') return last;
    }
    throw new Error(`did not converge in ${maxPasses} passes: ${JSON.stringify(last?.next)} phase ${last?.status.phase}\n${this.log.join('\n')}`);
  }

  scale(n: number): void {
    this.c = { ...this.c, metadata: { ...this.c.metadata, generation: (this.c.metadata.generation ?? 1) + 1 }, spec: { ...this.c.spec, replicas: n } };
  }
  voters(): number[] {
    return [...this.admin.config].filter(([, m]) => m.role === 'voter').map(([id]) => id).sort((a, b) => a - b);
  }
}

describe('operator membership state machine (simulated StatefulSet + fake admin API)', () => {
  it('bootstraps 3, scales 3→5→3→4: learner → promote one at a time, leader moved before removal, fresh ids', async () => {
    const w = new World(3);
    let p = await w.converge();
    assert.deepEqual(w.voters(), [1, 2, 3]);
    assert.equal(p.status.leader, 'demo-0');
    assert.deepEqual(p.status.members?.map((m) => [m.pod, m.raftId, m.role]), [
      ['demo-0', '1', 'Leader'],
      ['demo-1', '2', 'Follower'],
      ['demo-2', '3', 'Follower'],
    ]);

    w.scale(5);
    p = await w.converge();
    assert.deepEqual(w.voters(), [1, 2, 3, 4, 5]);
    assert.deepEqual(w.log.filter((l) => /^Member/.test(l)).map((l) => l.split(':')[0]), ['MemberAdded', 'MemberPromoted', 'MemberAdded', 'MemberPromoted']);

    // Scale in while the highest pod leads: leadership moves away first.
    w.admin.leaderId = 5;
    w.log = [];
    w.scale(3);
    p = await w.converge();
    assert.deepEqual(w.voters(), [1, 2, 3]);
    assert.equal(w.log[0]!.split(':')[0], 'LeaderTransferred');
    assert.deepEqual(w.log.filter((l) => /^MemberRemoved/.test(l)).length, 2);
    assert.equal(w.replicas, 3);
    assert.ok(!w.pvcs.has('demo-3') && !w.pvcs.has('demo-4'), 'PVCs of removed members are gone');

    w.scale(4);
    p = await w.converge();
    assert.deepEqual(w.voters(), [1, 2, 3, 6], 'demo-3 came back with the fresh raft id 6');
    assert.equal(p.status.nextRaftId, 7);
  });

  it('a killed operator (status lost between every pass) still completes a scale-in safely', async () => {
    const w = new World(5);
    await w.converge();
    w.scale(3);
    await w.converge(80, () => {
      // The operator restarts: nothing but the members ConfigMap and the nodes survive.
      delete (w.c as { status?: unknown }).status;
    });
    assert.deepEqual(w.voters(), [1, 2, 3]);
    assert.equal(w.replicas, 3);
  });

  it('refuses a scale-in below a healthy majority (ScaleInBlocked) and completes once the member is back', async () => {
    const w = new World(3);
    await w.converge();
    w.scale(1);
    w.admin.config.get(2)!.recentActive = false;
    w.admin.down.add('demo-1');
    let p = await w.pass();
    for (let i = 0; i < 5; i++) p = await w.pass();
    assert.equal(p.status.conditions?.find((c) => c.type === 'ScaleInBlocked')?.status, 'True');
    assert.deepEqual(w.voters(), [1, 2, 3]);
    assert.equal(w.replicas, 3);
    w.admin.config.get(2)!.recentActive = true;
    w.admin.down.delete('demo-1');
    p = await w.converge();
    assert.deepEqual(w.voters(), [1]);
    assert.equal(p.status.conditions?.find((c) => c.type === 'ScaleInBlocked')?.status, 'False');
  });

  it('paused stops a scale-out mid-way; unpausing resumes it', async () => {
    const w = new World(3);
    await w.converge();
    w.scale(5);
    await w.pass(); // StatefulSet → 4
    await w.pass(); // AddLearner 4
    w.c = { ...w.c, spec: { ...w.c.spec, paused: true } };
    const calls = w.admin.calls.length;
    for (let i = 0; i < 5; i++) {
      const p = await w.pass();
      assert.equal(p.next.action, 'Done');
      assert.equal(p.status.conditions?.find((c) => c.type === 'ReconciliationPaused')?.status, 'True');
    }
    assert.equal(w.admin.calls.length, calls, 'no admin call while paused');
    w.c = { ...w.c, spec: { ...w.c.spec, paused: false } };
    await w.converge();
    assert.deepEqual(w.voters(), [1, 2, 3, 4, 5]);
  });

  it('lost volume (PVC + pod deleted): the pod returns empty under its old id, is refused, and is replaced under a fresh id — with the operator killed between every pass', async () => {
    const w = new World(3);
    await w.converge();
    // kubectl delete pvc data-demo-1 && kubectl delete pod demo-1: the StatefulSet recreates both.
    w.pvcs.delete('demo-1');
    w.incarnations.delete('demo-1');
    w.admin.nodes.delete('demo-1');
    w.startPod('demo-1');
    w.log = [];
    const p = await w.converge(80, () => delete (w.c as { status?: unknown }).status);
    assert.deepEqual(w.voters(), [1, 3, 4]);
    assert.deepEqual(p.status.members?.map((m) => [m.pod, m.raftId]), [['demo-0', '1'], ['demo-1', '4'], ['demo-2', '3']]);
    assert.deepEqual(w.log.map((l) => l.split(':')[0]), ['MemberRemoved', 'MemberReplacing', 'MemberAdded', 'MemberPromoted']);
    assert.equal(p.status.conditions?.find((c) => c.type === 'MemberReplacement')?.reason, 'Replaced');
    assert.deepEqual(p.members.retired, [2]);
    assert.deepEqual(p.members.lastReplacement, { pod: 'demo-1', oldRaftId: 2, newRaftId: 4, reason: 'VolumeLost', at: NOW });
    assert.equal(p.status.nextRaftId, 5);
  });

  it('failover: a member down within downTimeout is kept; past it, it is replaced (one at a time, majority kept)', async () => {
    const w = new World(5);
    w.c = { ...w.c, spec: { ...w.c.spec, failover: { downTimeout: '5m', maxConcurrentReplacements: 1 } } };
    await w.converge();
    w.admin.down.add('demo-3');
    w.admin.down.add('demo-4');
    w.admin.config.get(4)!.recentActive = false;
    w.admin.config.get(5)!.recentActive = false;
    w.log = [];
    w.now = '2026-11-21T10:00:00Z';
    await w.pass();
    w.now = '2026-11-21T10:04:00Z';
    for (let i = 0; i < 3; i++) await w.pass();
    assert.deepEqual(w.log, [], 'nothing within the timeout');
    assert.deepEqual(w.voters(), [1, 2, 3, 4, 5]);
    w.now = '2026-11-21T10:06:00Z';
    // The replaced pods come back healthy (a new volume); the world restarts them in deletePod.
    const p = await w.converge(80);
    assert.deepEqual(w.voters(), [1, 2, 3, 6, 7]);
    const steps = w.log.map((l: string) => l.split(':')[0]);
    assert.deepEqual(steps, ['MemberRemoved', 'MemberReplacing', 'MemberAdded', 'MemberPromoted', 'MemberRemoved', 'MemberReplacing', 'MemberAdded', 'MemberPromoted'], 'one replacement at a time');
    assert.deepEqual(p.members.retired, [4, 5]);
  });

  // Issue 12 item 7: with many ranges the removed store must not lead any of them when it is removed.
  describe('scale-in drains the store before its removal', () => {
    /** 5 stores, 10 ranges besides range 1 spread over them; the group leader (range 1) on store 1. */
    const world = async (): Promise<World> => {
      const w = new World(5);
      await w.converge();
      w.admin.ranges = 10;
      for (const [id, n] of [[1, 1], [2, 2], [3, 2], [4, 2], [5, 3]] as const) w.admin.rangesLed.set(id, n);
      w.log = [];
      return w;
    };
    const totalLed = (w: World) => w.voters().reduce((a, id) => a + w.admin.led(id), 0);
    /** The property under test: every removed store led no range when RemoveMember was called. */
    const assertNothingLedAtRemoval = (w: World) => {
      for (const [id, n] of w.admin.ledAtRemoval) assert.equal(n, 0, `store ${id} still led ${n} range(s) when it was removed`);
    };

    it('5→3: each removed store is drained (StoreDrained before MemberRemoved) and led nothing at removal', async () => {
      const w = await world();
      w.scale(3);
      await w.converge(80);
      assert.deepEqual(w.voters(), [1, 2, 3]);
      assert.deepEqual([...w.admin.ledAtRemoval.keys()].sort(), [4, 5]);
      assertNothingLedAtRemoval(w);
      assert.deepEqual(w.log.map((l) => l.split(':')[0]), ['StoreDrained', 'MemberRemoved', 'StoreDrained', 'MemberRemoved']);
      // Store 5's leaderships avoid store 4 (removed next), so store 4's drain moves only its own 2.
      assert.deepEqual(w.admin.calls.filter((c) => /^DrainStore/.test(c)), ['DrainStore 5 avoid 4', 'DrainStore 4']);
      assert.match(w.log.filter((l) => l.startsWith('StoreDrained'))[1]!, /store 4: moved 2 leadership\(s\)/);
      assert.equal(totalLed(w), 11, 'every range (10 + range 1) still has a leader among the remaining stores');
    });

    it('an operator killed mid-drain (drain cut short, status lost every pass) resumes it and still removes a store leading nothing', async () => {
      const w = await world();
      w.admin.leaderId = 5; // it also leads range 1: TransferLeader first, as before
      w.admin.drainBudget = 1;
      w.scale(3);
      await w.converge(80, () => delete (w.c as { status?: unknown }).status);
      assert.deepEqual(w.voters(), [1, 2, 3]);
      assertNothingLedAtRemoval(w);
      assert.equal(w.log[0]!.split(':')[0], 'LeaderTransferred');
      assert.ok(w.log.filter((l) => /^MembershipStepFailed: DrainStore: DrainStore 5: drain of store 5 incomplete/.test(l)).length >= 2, `the drain was cut short and re-planned:\n${w.log.join('\n')}`);
      assert.equal(w.admin.calls.filter((c) => c === 'DrainStore 5 avoid 4').length, 3, 'store 5 led 3 ranges: three cut-short drains, one leadership each');
      assert.equal(totalLed(w), 11);
    });

    it('negative control: without the drain (nodes that do not report ranges) the removed stores still lead ranges when removed', async () => {
      const w = await world();
      w.admin.reportsRanges = false;
      w.scale(3);
      await w.converge(80);
      assert.deepEqual(w.voters(), [1, 2, 3]);
      assert.ok(!w.admin.calls.some((c) => /^DrainStore/.test(c)));
      assert.deepEqual([...w.admin.ledAtRemoval].sort(), [[4, 2], [5, 3]]);
      assert.throws(() => assertNothingLedAtRemoval(w), /store \d still led \d range\(s\) when it was removed/);
    });
  });

  it('a lagging learner is not promoted until it catches up', async () => {
    const w = new World(3);
    await w.converge();
    w.scale(4);
    w.admin.lagging.add(4);
    for (let i = 0; i < 6; i++) await w.pass();
    assert.equal(w.admin.config.get(4)?.role, 'learner');
    assert.ok(!w.admin.calls.includes('Promote 4'));
    w.admin.lagging.delete(4);
    await w.converge();
    assert.deepEqual(w.voters(), [1, 2, 3, 4]);
  });
});
