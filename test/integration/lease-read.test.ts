// Leader-lease reads (opt-in: --lease-read) on real kvs-node processes, checked for linearizability by porcupine.
//
// Schedule: 3 nodes, every node-to-node link through its own fault proxy (jepsen-style, so the leader can
// be cut off from its peers while clients still reach it directly). Read-only clients are pinned to the
// leader L; read/write clients use the two followers. Then L is SIGSTOPped AND cut off from its peers for
// longer than an election timeout — the followers elect a new leader and acknowledge writes — then L
// resumes, still cut off, for a while: the classic stale-read window (L still believes it leads; its
// check-quorum steps it down only after a further election timeout of its own ticks). Finally heal.
// * With lease reads: L finds its lease expired on resume (CLOCK_MONOTONIC ran while it was stopped),
//   falls back to ReadIndex, which cannot complete: no stale read — the history is linearizable.
// * Negative control (KVS_TEST_UNSAFE_LEASE_NO_EXPIRY=1 on every node: the lease never expires): L serves
//   its stale state on resume and porcupine must report the history as NOT linearizable.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AdminClient } from '../../node/src/client/index.js';
import { NodeProcess, collectLogsOnFailure, sleep, until } from '../helpers/cluster-process.js';
import { checkLinearizable, porcupineBinary } from '../helpers/history-porcupine.js';
import { HistoryRecorder } from '../helpers/history-recorder.js';
import { runRegisterWorkload } from '../helpers/history-workload.js';
import { startProxiedCluster, type ProxiedCluster } from '../helpers/proxied-cluster.js';
import { testSeed } from './support/fixture.js';

const N = 3;
const LEADER_CLIENTS = 3;
const MAJORITY_CLIENTS = 3;

type Cast = ProxiedCluster;

async function startCluster(env: Record<string, string>): Promise<Cast> {
  // Lease reads are opt-in; this suite is about them.
  return startProxiedCluster({ n: N, hostNet: 3, proxyNet: 4, env, args: ['--lease-read', 'true'] });
}

async function leaderOf(addresses: string[]): Promise<{ id: number; term: number } | undefined> {
  const a = new AdminClient(addresses, 2000);
  try {
    const sts = await a.statusAll(1500);
    let best: { id: number; term: number } | undefined;
    for (const s of sts) if (s?.role === 'Leader' && (!best || Number(s.term) > best.term)) best = { id: Number(s.raftId), term: Number(s.term) };
    return best;
  } finally {
    a.close();
  }
}

async function leaseReads(n: NodeProcess): Promise<number> {
  const m = /^kvs_raft_lease_reads(?:\{[^}]*\})? (\d+)/m.exec(await n.metrics());
  return m ? Number(m[1]) : 0;
}

interface Outcome {
  verdict: string;
  exitCode: number;
  historyFile: string;
  htmlFile: string | undefined;
  /** Lease reads L answered before the fault (proves the default is on and used). */
  leaseReadsBefore: number;
  oldTerm: number;
  newLeader: { id: number; term: number };
  /** Successful writes by the followers' clients while L was stopped. */
  writesWhileStopped: number;
  /** Successful reads answered by L's clients after it resumed, before the heal. */
  readsOnOldLeaderAfterResume: number;
  counts: HistoryRecorder['counts'];
}

describe('leader-lease reads: a stopped, cut-off leader (multi-process, porcupine)', function () {
  this.timeout(240_000);
  let cast: Cast | undefined;

  before(function () {
    this.timeout(300_000);
    porcupineBinary(); // build (or find) the checker outside the measured part
  });
  afterEach(async function () {
    collectLogsOnFailure(this, [...(cast?.nodes.values() ?? [])]);
    for (const p of cast?.links.values() ?? []) await p.close().catch(() => undefined);
    for (const n of cast?.nodes.values() ?? []) await n.cleanup();
    cast = undefined;
  });

  async function scenario(name: string, env: Record<string, string>): Promise<Outcome> {
    const seed = testSeed(name);
    cast = await startCluster(env);
    const { nodes, links } = cast;
    const all = [...nodes.values()].map((n) => n.address);
    const leader = await until('a leader', () => leaderOf(all), 20_000);
    const L = nodes.get(leader.id)!;
    const followers = [...nodes.keys()].filter((id) => id !== leader.id);
    const followerAddrs = followers.map((id) => nodes.get(id)!.address);
    const h = new HistoryRecorder();
    const marks = { stopped: 0, resumed: 0, healed: 0 };
    let newLeader: { id: number; term: number } | undefined;
    let leaseReadsBefore = 0;

    const nemesis = (async () => {
      await sleep(1500);
      leaseReadsBefore = await leaseReads(L);
      // Stop L first, then cut its links: it never sees the partition before it is stopped.
      L.pause();
      for (const [key, p] of links) if (key.startsWith(`${leader.id}>`) || key.endsWith(`>${leader.id}`)) p.partition();
      marks.stopped = h.now();
      // Longer than an election timeout (0.6–1.2 s) plus the vote hold: the followers elect a new leader.
      await sleep(2500);
      newLeader = await leaderOf(followerAddrs);
      L.resume();
      marks.resumed = h.now();
      // L runs cut off: it believes it leads until its check-quorum (≥ one election timeout of its ticks).
      await sleep(1500);
      for (const p of links.values()) p.heal();
      marks.healed = h.now();
    })();

    await runRegisterWorkload({
      recorder: h,
      // Clients 0..2: read-only, pinned to L (short deadline: calls while it is stopped time out and are
      // dropped as reads without information). Clients 3..5: reads and writes through the followers.
      endpointsFor: (c) => (c < LEADER_CLIENTS ? [L.address] : followerAddrs),
      clients: LEADER_CLIENTS + MAJORITY_CLIENTS,
      keys: 3,
      opsPerClient: 1_000_000,
      timeLimitMs: 7000,
      seed,
      keyPrefix: 'lease/k',
      mixFor: (c) => (c < LEADER_CLIENTS ? { getFraction: 1, putFraction: 0 } : { getFraction: 0.3, putFraction: 0.5 }),
      clientOptions: (c) => (c < LEADER_CLIENTS ? { timeoutMs: 400, attemptTimeoutMs: 400 } : { timeoutMs: 4000, attemptTimeoutMs: 1000 }),
    });
    await nemesis;

    const dir = join(process.cwd(), 'test', 'out', 'porcupine', `lease-${name}`);
    mkdirSync(dir, { recursive: true });
    const r = checkLinearizable(h.ops, { dir, timeoutS: 120 });
    const writesWhileStopped = h.ops.filter(
      (op) => op.clientId >= LEADER_CLIENTS && op.input.op !== 'get' && op.return !== null && op.output.ok === true && op.call >= marks.stopped && op.return <= marks.resumed,
    ).length;
    const readsOnOldLeaderAfterResume = h.ops.filter((op) => op.clientId < LEADER_CLIENTS && op.return !== null && op.call >= marks.resumed && op.return <= marks.healed).length;
    const out: Outcome = {
      verdict: r.verdict,
      exitCode: r.exitCode,
      historyFile: r.historyFile,
      htmlFile: r.htmlFile,
      leaseReadsBefore,
      oldTerm: leader.term,
      newLeader: newLeader ?? { id: 0, term: 0 },
      writesWhileStopped,
      readsOnOldLeaderAfterResume,
      counts: h.counts,
    };
    console.log(`      ${JSON.stringify({ ...out, historyFile: undefined, htmlFile: undefined })}`);
    return out;
  }

  /** What makes the schedule able to show a stale read: L served lease reads, a new leader took writes. */
  function assertScheduleBit(o: Outcome): void {
    assert.ok(o.leaseReadsBefore > 50, `L answered reads from its lease before the fault (${o.leaseReadsBefore})`);
    assert.ok(o.newLeader.id !== 0 && o.newLeader.term > o.oldTerm, `a new leader was elected while L was stopped (${JSON.stringify(o.newLeader)})`);
    assert.ok(o.writesWhileStopped >= 5, `the followers acknowledged writes while L was stopped (${o.writesWhileStopped})`);
  }

  it('with leases the old leader serves no stale read: the history is linearizable', async function () {
    const o = await scenario('safe', {});
    assertScheduleBit(o);
    assert.equal(o.exitCode, 0, `${o.verdict}\nhistory: ${o.historyFile}${o.htmlFile ? `\nvisualization: ${o.htmlFile}` : ''}`);
  });

  it('negative control: a lease that never expires (KVS_TEST_UNSAFE_LEASE_NO_EXPIRY) serves stale reads porcupine catches', async function () {
    const o = await scenario('no-expiry', { KVS_TEST_UNSAFE_LEASE_NO_EXPIRY: '1' });
    assertScheduleBit(o);
    assert.ok(o.readsOnOldLeaderAfterResume > 0, 'the resumed old leader answered reads (from its never-expiring lease)');
    assert.equal(o.exitCode, 1, `expected a linearizability violation, got: ${o.verdict}`);
  });
});
