// One Jepsen-style run: an N-node Raft cluster of separate kvs-node processes on loopback, a
// fault-injecting proxy on every node-to-node link, concurrent clients of one workload (registers,
// counters, bank, write skew: workload-*.ts) and a seeded fault schedule (schedule.ts). Then heal, check
// recovery, and let the workload read everything on every member and run its checker. A negative
// control (schedule.ts CONTROLS) passes only when the checker reports the expected violation.
//
// Links. Node i reaches node j through proxy L(i→j): i's --peers lists L(i→j) as j's address, so each
// directed link can be cut on its own (majority/minority, isolated leader, bridge, one-way). The Raft
// transport sends i→j only on streams i opened (replies travel on j's own stream j→i), so cutting
// L(i→j) alone is a true one-way partition. Caveat (docs/jepsen.md): the address book entry of a
// member added later is replicated (AddLearner carries ONE address), so a joined node k is reached by
// everyone through one shared inbound proxy L(*→k), cut only approximately. Configured --peers win
// over the replicated book, so every other link stays per-pair.
import { mkdirSync, writeFileSync, rmSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { AdminClient, KvClient, addReplica, collectShardMap, moveReplica, removeReplica, type KvClientOptions, type MoveOptions } from '../../node/src/client/index.js';
import { TEST_CLOCK_ENV } from '../../node/src/kv/clock.js';
import { NodeProcess, sleep } from '../helpers/cluster-process.js';
import { FaultProxy } from '../helpers/process-proxy.js';
import { mulberry32 as prng } from '../../node/src/common/prng.js';
import { clockSkewFor, describeSkew, writeSkew } from './fault-clock.js';
import { CONTROLS, type FaultStep, type RunPlan } from './schedule.js';
import { makeWorkload } from './workloads.js';

export interface RunResult {
  seed: number;
  /** The run passed: no problem — or, for a negative control, the expected violation was reported. */
  ok: boolean;
  /** The checkers (or the harness) reported problems. */
  failedChecks: boolean;
  problems: string[];
  ops: number;
  counts: Record<string, number>;
  faults: Record<string, number>;
  events: string[];
  recoveryMs: number | undefined;
  verdict: string;
  outDir: string | undefined;
  durationMs: number;
}

export interface RunOptions {
  /** Distinct per concurrently running run: selects the loopback /16 (127.(60+slot).x.y). */
  slot: number;
  /** Where failing runs are kept: <outRoot>/seed-<seed>/ */
  outRoot: string;
  /** Keep the artifacts even when the run passed. */
  keepAlways?: boolean;
  /** Replay command printed for a failing run. */
  replay: string;
  log?: (s: string) => void;
}

interface Member {
  id: number;
  proc: NodeProcess;
}

const NODE_FLAGS = ['--raft-compact-threshold', '300', '--raft-compact-keep', '100'];
/** Every workload key sorts above it: `move-range` splits there so the workload's data leaves range 1. */
const DATA_SPLIT = Buffer.from('jepsen/');

export async function runOne(plan: RunPlan, o: RunOptions): Promise<RunResult> {
  const t0 = Date.now();
  const seedDir = join(o.outRoot, `seed-${plan.seed}`);
  keepEarlierArtifacts(seedDir);
  const base = `127.${60 + o.slot}`;
  const work = mkdtempSync(join(tmpdir(), `kvs-jepsen-${plan.seed}-`));
  const events: string[] = [];
  const ev = (s: string): void => {
    events.push(`${String(Date.now() - tWorkload).padStart(6)} ms  ${s}`);
  };
  let tWorkload = Date.now();
  const problems: string[] = [];
  const faults: Record<string, number> = {};
  const procs = new Map<number, NodeProcess>(); // raft id → process (members and ex-members)
  const members = new Map<number, Member>(); // current members (voters + learners), as far as we know
  const links = new Map<string, FaultProxy>(); // "i>j" or "*>k"
  const clientProxies = new Map<number, FaultProxy>(); // raft id → proxy in front of its client API (lost replies)
  const admins: AdminClient[] = [];
  const kvs: KvClient[] = [];
  let result: RunResult | undefined;

  const nodeHost = (id: number): string => `${base}.0.${10 + id}`;
  const clientProxyHost = (id: number): string => `${base}.2.${10 + id}`;
  const replyRand = prng(plan.seed ^ 0x5bd1e995);
  const proxyHost = (id: number): string => `${base}.1.${10 + id}`;
  const clockFile = (id: number): string => join(work, `clock-n${id}.json`);
  const control = plan.control ? CONTROLS[plan.control] : undefined;
  const mkNode = async (id: number, extra: (self: NodeProcess) => string[]): Promise<NodeProcess> => {
    // Clients reach node `id` through a proxy that loses a few replies after the node processed the
    // request (retries must be exactly-once); the node advertises that proxy in NOT_LEADER hints.
    // Every node has the clock test hook on (a skew file that is absent until a clock fault).
    const cp = { address: '' };
    const env = { [TEST_CLOCK_ENV]: clockFile(id), KVS_TXN_PARALLEL_COMMIT: String(plan.parallelCommit), KVS_RAFT_ASYNC_APPEND: String(plan.asyncAppend), KVS_TXN_SECONDARY_HOLD: `${plan.secondaryHoldMs}ms`, ...control?.env };
    const n: NodeProcess = new NodeProcess({ nodeId: `n${id}`, host: nodeHost(id), logDir: work, env, extraArgs: () => [...extra(n), '--advertise', cp.address], readyTimeoutMs: 30_000 });
    await n.allocatePorts();
    const proxy = await FaultProxy.start(n.address, { host: clientProxyHost(id), random: replyRand });
    proxy.setReplyDropProbability(plan.replyLoss);
    clientProxies.set(id, proxy);
    cp.address = proxy.address;
    procs.set(id, n);
    return n;
  };
  const link = async (key: string, from: number, to: NodeProcess): Promise<FaultProxy> => {
    const p = await FaultProxy.start(to.address, { host: proxyHost(from) });
    links.set(key, p);
    return p;
  };
  const admin = (): AdminClient => {
    const a = new AdminClient(
      [...members.values()].filter((m) => m.proc.running).map((m) => m.proc.address),
      8000,
    );
    admins.push(a);
    return a;
  };
  /** The current leader's raft id (highest term among the nodes claiming leadership), or undefined. */
  const findLeader = async (): Promise<number | undefined> => {
    const a = admin();
    try {
      const sts = await a.statusAll(1500);
      let best: { id: number; term: number } | undefined;
      for (const s of sts) if (s && s.role === 'Leader' && (!best || Number(s.term) > best.term)) best = { id: Number(s.raftId), term: Number(s.term) };
      return best?.id;
    } finally {
      a.close();
    }
  };
  const healAll = (): void => {
    for (const p of links.values()) p.heal();
  };
  /** Cuts the directed pairs in `cut` (raft ids). A shared inbound link *>k is cut when most of k's peers are cut from k. */
  const applyCut = (cut: Set<string>): void => {
    const ids = [...members.keys()];
    for (const [key, p] of links) {
      const [from, to] = key.split('>');
      if (from === '*') {
        const others = ids.filter((x) => String(x) !== to);
        const n = others.filter((x) => cut.has(`${x}>${to}`)).length;
        if (n * 2 > others.length) p.partition();
      } else if (cut.has(key)) p.partition();
    }
  };
  const cutBetween = (a: number[], b: number[], cut: Set<string>): void => {
    for (const x of a) for (const y of b) if (x !== y) {
      cut.add(`${x}>${y}`);
      cut.add(`${y}>${x}`);
    }
  };
  const pick = <T>(xs: T[], r: number): T => xs[Math.floor(r * xs.length) % xs.length]!;
  const shuffle = <T>(xs: T[], r: number[]): T[] => {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor((r[i % r.length]! * 7919 * (i + 1)) % (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };

  let nextId = plan.nodes + 1;

  try {
    // Initial members 1..N, each with its own outgoing proxies.
    const initial: NodeProcess[] = [];
    for (let id = 1; id <= plan.nodes; id++) {
      initial.push(
        await mkNode(id, () => {
          const peers = [`${id}=${procs.get(id)!.address}`];
          for (let j = 1; j <= plan.nodes; j++) if (j !== id) peers.push(`${j}=${links.get(`${id}>${j}`)!.address}`);
          return ['--raft-id', String(id), '--peers', peers.join(','), ...NODE_FLAGS];
        }),
      );
    }
    for (let i = 1; i <= plan.nodes; i++) for (let j = 1; j <= plan.nodes; j++) if (i !== j) await link(`${i}>${j}`, i, procs.get(j)!);
    // Nodes that may join later (one per membership or wipe step): ports known now, so clients list them.
    const joiners: NodeProcess[] = [];
    const joinIds: number[] = [];
    for (const step of plan.schedule) {
      if (step.kind !== 'membership' && step.kind !== 'wipe' && step.kind !== 'wipe-lagging') continue;
      const id = nextId++;
      joinIds.push(id);
      joiners.push(
        await mkNode(id, (self) => {
          const peers = [`${id}=${self.address}`];
          for (const m of members.values()) if (m.id !== id) peers.push(`${m.id}=${links.get(`${id}>${m.id}`)?.address ?? m.proc.address}`);
          return ['--raft-id', String(id), '--join', '--peers', peers.join(','), ...NODE_FLAGS];
        }),
      );
    }
    await Promise.all(initial.map((n) => n.start()));
    initial.forEach((n, i) => members.set(i + 1, { id: i + 1, proc: n }));
    const allClientAddrs = [...initial.map((_, i) => i + 1), ...joinIds].map((id) => clientProxies.get(id)!.address);

    // Wait for a leader and a first write (bounded).
    const boot = new KvClient({ endpoints: allClientAddrs, timeoutMs: 20_000 });
    kvs.push(boot);
    await boot.put('jepsen/boot', 'ok');
    const workload = makeWorkload(plan);
    await workload.setup(boot);
    o.log?.(`  seed ${plan.seed}: ${plan.nodes} nodes up, ${plan.workload} workload, ${plan.schedule.length} faults planned`);

    // Clients spread over every node (rotated lists) — or, in the issue-10 recipe, each pinned to one
    // follower (a node that forwards its commits to the leader), which the nemesis then kills.
    let endpointsFor = (c: number): string[] => {
      const k = c % allClientAddrs.length;
      return [...allClientAddrs.slice(k), ...allClientAddrs.slice(0, k)];
    };
    if (plan.pinFollowers) {
      const leader = await findLeader();
      const followers = [...members.keys()].filter((x) => x !== leader);
      endpointsFor = (c) => [clientProxies.get(followers[c % followers.length]!)!.address];
      o.log?.(`  seed ${plan.seed}: clients pinned to followers ${fmt(followers)} (leader n${leader ?? '?'})`);
      events.push(`     0 ms  clients pinned to followers ${fmt(followers)} (leader n${leader ?? '?'})`);
    }
    // A pinned client waits for its killed follower to come back (1–2 s down + restart).
    const clientOptions: Partial<KvClientOptions> = { timeoutMs: plan.pinFollowers ? 8000 : 4000, attemptTimeoutMs: 1000, directTxnReads: plan.directTxnReads };

    tWorkload = Date.now();
    const workloadMs = plan.faultWindowMs + 1500;
    let stopNemesis = false;
    let joinNo = 0;
    const nemesis = (async () => {
      for (const step of plan.schedule) {
        const wait = tWorkload + step.atMs - Date.now();
        if (wait > 0) await sleep(wait);
        if (stopNemesis) break;
        faults[step.kind] = (faults[step.kind] ?? 0) + 1;
        try {
          await applyFault(step);
        } catch (e) {
          ev(`${step.kind}: harness error ${(e as Error).message.split('\n')[0]}`);
        }
      }
    })();

    async function applyFault(step: FaultStep): Promise<void> {
      const ids = [...members.keys()].sort((a, b) => a - b);
      const needLeader = step.targetLeader || step.targetFollower || step.kind === 'partition-leader' || step.kind === 'partition-oneway';
      const found = needLeader ? await findLeader() : undefined;
      const leader = step.targetFollower ? undefined : found;
      const target = step.targetFollower ? pick(ids.filter((x) => x !== found), step.r[0]!) : (leader ?? pick(ids, step.r[0]!));
      switch (step.kind) {
        case 'kill': {
          const n = members.get(target)!.proc;
          ev(`kill -9 n${target}${leader ? ' (leader)' : step.targetFollower ? ' (follower)' : ''}`);
          await n.kill9();
          await sleep(step.holdMs);
          await n.restart();
          ev(`restarted n${target}`);
          break;
        }
        case 'pause': {
          const n = members.get(target)!.proc;
          ev(`SIGSTOP n${target}${leader ? ' (leader)' : ''}`);
          n.pause();
          await sleep(step.holdMs);
          n.resume();
          ev(`SIGCONT n${target}`);
          break;
        }
        case 'partition-majority': {
          const s = shuffle(ids, step.r);
          const minority = s.slice(0, Math.floor((ids.length - 1) / 2) || 1);
          const majority = s.filter((x) => !minority.includes(x));
          const cut = new Set<string>();
          cutBetween(minority, majority, cut);
          ev(`partition ${fmt(minority)} | ${fmt(majority)}`);
          applyCut(cut);
          await sleep(step.holdMs);
          healAll();
          ev('healed');
          break;
        }
        case 'partition-leader': {
          const l = leader ?? pick(ids, step.r[0]!);
          const cut = new Set<string>();
          cutBetween([l], ids, cut);
          ev(`partition: leader n${l} isolated${leader ? '' : ' (no leader found: random node)'}`);
          applyCut(cut);
          await sleep(step.holdMs);
          healAll();
          ev('healed');
          break;
        }
        case 'partition-bridge': {
          const s = shuffle(ids, step.r);
          const bridge = s[0]!;
          const rest = s.slice(1);
          const a = rest.slice(0, Math.ceil(rest.length / 2));
          const b = rest.slice(Math.ceil(rest.length / 2));
          const cut = new Set<string>();
          cutBetween(a, b, cut);
          ev(`partition bridge: ${fmt(a)} | ${fmt(b)}, n${bridge} sees both`);
          applyCut(cut);
          await sleep(step.holdMs);
          healAll();
          ev('healed');
          break;
        }
        case 'partition-oneway': {
          const l = leader ?? pick(ids, step.r[0]!);
          const cut = new Set<string>();
          for (const x of ids) if (x !== l) cut.add(`${l}>${x}`);
          ev(`one-way: n${l} → others cut (n${l} still hears them)${leader ? '' : ' (no leader found: random node)'}`);
          applyCut(cut);
          await sleep(step.holdMs);
          healAll();
          ev('healed');
          break;
        }
        case 'transfer': {
          const to = pick(ids.filter((x) => x !== leader), step.r[1]!);
          const a = admin();
          try {
            const res = await a.transferLeader(to, 3000);
            ev(`transfer leader → n${to}: ${res.ok ? 'ok' : 'not ok'} ${res.message ?? ''}`);
          } catch (e) {
            ev(`transfer leader → n${to}: ${(e as Error).message.split('\n')[0]}`);
          } finally {
            a.close();
          }
          break;
        }
        case 'split': {
          // Inside a workload's key space: a register key (jepsen/k<n>), or a key that puts bank accounts
          // or a write-skew pair (jepsen/bank/a<n>, jepsen/ws/p<n>/d1) on two ranges — their transactions
          // and batches then commit across ranges (two-phase), under every other fault.
          const r2 = step.r[2]!;
          const n = Math.floor(step.r[1]! * 8);
          const at = r2 < 0.34 ? `jepsen/k${n}${r2 < 0.17 ? '' : '~'}` : r2 < 0.67 ? `jepsen/bank/a${1 + (n % 4)}` : `jepsen/ws/p${n % 2}/d1`;
          const a = admin();
          try {
            const res = await a.splitRange(Buffer.from(at));
            ev(`split at ${at}: range ${res.left.rangeId} | range ${res.right.rangeId} (version ${res.right.version})`);
          } catch (e) {
            ev(`split at ${at}: ${(e as Error).message.split('\n')[0]}`);
          } finally {
            a.close();
          }
          break;
        }
        case 'move-range':
          await moveRange(step);
          break;
        case 'membership':
          await membership(step, joinIds[joinNo]!, joiners[joinNo]!, leader);
          joinNo++;
          break;
        case 'wipe':
          await wipe(step, target, leader, joinIds[joinNo]!, joiners[joinNo]!);
          joinNo++;
          break;
        case 'wipe-lagging':
          await wipeLagging(step, found, joinIds[joinNo]!, joiners[joinNo]!);
          joinNo++;
          break;
        case 'clock': {
          const skew = clockSkewFor(step.r[1]!, step.r[2]!);
          writeSkew(clockFile(target), skew);
          ev(`clock of n${target}${leader ? ' (leader)' : ''}: ${describeSkew(skew)}`);
          await sleep(step.holdMs);
          writeSkew(clockFile(target), { offsetMs: 0 });
          ev(`clock of n${target} back to real time`);
          break;
        }
      }
    }

    /**
     * A lost disk: kill -9, delete the data dir, restart with the same flags (same raft id and peers)
     * — a node that re-bootstraps with no log and no vote. Then the operator's repair: remove the old
     * raft id, retire the process, and add a fresh node with a new id (join as learner → promote).
     */
    async function wipe(step: FaultStep, target: number, leader: number | undefined, newId: number, newNode: NodeProcess): Promise<void> {
      const n = members.get(target)!.proc;
      ev(`wipe n${target}${leader ? ' (leader)' : ''}: kill -9, data dir deleted`);
      await n.kill9();
      n.wipeDataDir();
      try {
        await n.restart();
        ev(`n${target} restarted on an empty data dir with the same flags`);
      } catch (e) {
        ev(`n${target} did not come back on an empty data dir: ${(e as Error).message.split('\n')[0]}`);
      }
      await sleep(step.holdMs);
      const a = admin();
      try {
        if (await removeMember(a, target, leader)) await retire(target);
        const promoted = await addMember(a, newId, newNode);
        if (!promoted && (await removeMember(a, newId, undefined))) await retire(newId);
      } finally {
        a.close();
      }
    }

    /**
     * The schedule a wiped voter is most dangerous in (3 nodes): node G goes down and lags while the
     * leader L and node F acknowledge writes; then L and F lose power, F's disk is lost, and F and G
     * restart with the same flags. F (no log, no vote) would vote G in — a leader without the writes L
     * and F acknowledged — unless the group refuses F's new incarnation. L returns after a while; then
     * F is replaced by a new member as in `wipe`.
     */
    async function wipeLagging(step: FaultStep, leader: number | undefined, newId: number, newNode: NodeProcess): Promise<void> {
      const ids = [...members.keys()].sort((a, b) => a - b);
      if (ids.length !== 3 || leader === undefined) {
        ev(`wipe-lagging: needs 3 members and a leader (members ${fmt(ids)}, leader ${leader ?? 'none'}): skipped`);
        return;
      }
      const others = ids.filter((x) => x !== leader);
      const f = pick(others, step.r[0]!);
      const g = others.find((x) => x !== f)!;
      const proc = (id: number): NodeProcess => members.get(id)!.proc;
      ev(`wipe-lagging: kill -9 n${g} (it will lag)`);
      await proc(g).kill9();
      await sleep(step.holdMs);
      ev(`wipe-lagging: kill -9 n${leader} (leader) and n${f}; n${f}'s data dir deleted`);
      await Promise.all([proc(leader).kill9(), proc(f).kill9()]);
      proc(f).wipeDataDir();
      await Promise.all(
        [f, g].map((id) =>
          proc(id)
            .restart()
            .then(
              () => ev(`n${id} restarted${id === f ? ' on an empty data dir' : ''} with the same flags`),
              (e: unknown) => ev(`n${id} did not come back: ${(e as Error).message.split('\n')[0]}`),
            ),
        ),
      );
      await sleep(3000); // several election timeouts: time for G to win with F's vote, if F may vote
      await proc(leader).restart();
      ev(`n${leader} (old leader) restarted`);
      const a = admin();
      try {
        if (await removeMember(a, f, undefined)) await retire(f);
        const promoted = await addMember(a, newId, newNode);
        if (!promoted && (await removeMember(a, newId, undefined))) await retire(newId);
      } finally {
        a.close();
      }
    }

    /** Starts `n` with --join, adds it as a learner and promotes it (retried until caught up, ≤ 8 s). */
    async function addMember(a: AdminClient, id: number, n: NodeProcess): Promise<boolean> {
      // Outgoing links of the new node, and one shared inbound link (the replicated address book entry).
      for (const m of members.values()) await link(`${id}>${m.id}`, id, m.proc);
      const inbound = await link(`*>${id}`, id, n);
      await n.start();
      ev(`membership: n${id} started (--join), add learner at ${inbound.address}`);
      try {
        const r = await a.addLearner(id, inbound.address);
        ev(`add learner n${id}: ${r.ok ? 'ok' : 'not ok'} ${r.message ?? ''}`);
      } catch (e) {
        ev(`add learner n${id}: ${(e as Error).message.split('\n')[0]}`);
      }
      members.set(id, { id, proc: n });
      let promoted = false;
      const deadline = Date.now() + 8000;
      while (!promoted && Date.now() < deadline) {
        try {
          const r = await a.promote(id);
          promoted = r.ok;
          ev(`promote n${id}: ${r.ok ? 'ok' : 'not ok'} ${r.message ?? ''}`);
        } catch (e) {
          const msg = (e as Error).message.split('\n')[0]!;
          if (!/caught up|not a learner|FAILED_PRECONDITION|leader/i.test(msg)) ev(`promote n${id}: ${msg}`);
          if (/not a member|unknown/i.test(msg) && !/learner/i.test(msg)) break;
        }
        if (!promoted) await sleep(300);
      }
      return promoted;
    }

    /** Admin RemoveMember, retried ≤ 8 s; true when `victim` is no longer a member. */
    async function removeMember(a: AdminClient, victim: number, leader: number | undefined): Promise<boolean> {
      let removed = false;
      const rdeadline = Date.now() + 8000;
      while (!removed && Date.now() < rdeadline) {
        try {
          const r = await a.removeMember(victim);
          removed = r.ok;
          ev(`remove n${victim}${victim === leader ? ' (leader)' : ''}: ${r.ok ? 'ok' : 'not ok'} ${r.message ?? ''}`);
        } catch (e) {
          const msg = (e as Error).message.split('\n')[0]!;
          ev(`remove n${victim}: ${msg}`);
          if (/not a member/i.test(msg)) removed = true;
        }
        if (!removed) await sleep(300);
      }
      if (!removed) ev(`remove n${victim} did not complete: membership kept as is`);
      return removed;
    }

    /** A removed member's process is killed after a moment (to learn its removal); its id is never reused. */
    async function retire(id: number): Promise<void> {
      members.delete(id);
      await sleep(500);
      await procs.get(id)!.kill9();
      ev(`n${id} retired (kill -9)`);
    }

    async function membership(step: FaultStep, id: number, n: NodeProcess, leader: number | undefined): Promise<void> {
      const a = admin();
      try {
        const promoted = await addMember(a, id, n);
        // Remove one old voter (sometimes the leader) — or the learner again if promotion never worked.
        const victim = !promoted ? id : step.r[2]! < 0.3 && leader !== undefined && leader !== id ? leader : pick([...members.keys()].filter((x) => x !== id && x !== leader), step.r[3]!);
        if (await removeMember(a, victim, leader)) await retire(victim);
      } finally {
        a.close();
      }
    }

    /**
     * A replica of a random range (not range 1: its members are the cluster's membership) changes stores
     * through the shared move (client/range-moves.ts: learner → snapshot → promote → remove). Where some
     * running member lacks the range, a genuine move to it. Where every member holds it (how clusters
     * start), three changes: A's replica is removed (A destroys it), B's is moved to A (A gets the range
     * back by snapshot, B destroys its replica), then B gets one again — every range ends on every member,
     * which the membership faults rely on (they fan out over the ranges of range 1's leader).
     * While range 1 still holds workload keys the fault first splits them off (at `jepsen/`).
     */
    async function moveRange(step: FaultStep): Promise<void> {
      const a = admin();
      let rangeId: number | undefined;
      const o: MoveOptions = { timeoutMs: 10_000, onStep: (m) => ev(`move-range: ${m}`) };
      try {
        let map = await collectShardMap(a);
        const r1 = map.ranges.find((x) => x.rangeId === 1);
        if (r1 !== undefined && (r1.end.length === 0 || Buffer.compare(r1.end, DATA_SPLIT) > 0)) {
          // Range 1 still holds workload keys: split them off at `jepsen/` (below every workload key, so no
          // transaction's keys straddle it). A retried split whose first reply was lost fails harmlessly.
          try {
            const res = await a.splitRange(DATA_SPLIT);
            ev(`move-range: split at ${DATA_SPLIT.toString()} first: range ${res.left.rangeId} | range ${res.right.rangeId}`);
          } catch (e) {
            ev(`move-range: split at ${DATA_SPLIT.toString()}: ${(e as Error).message.split('\n')[0]}`);
          }
          await sleep(300); // the right half elects its leader
          map = await collectShardMap(a);
        }
        const candidates = map.ranges.filter((r) => r.rangeId !== 1);
        if (candidates.length === 0) {
          ev('move-range: no range besides range 1: skipped');
          return;
        }
        const r = pick(candidates, step.r[1]!);
        rangeId = r.rangeId;
        o.storeEndpoints = new Map(map.stores.filter((x) => x.error === undefined).map((x) => [x.storeId, x.endpoint]));
        const running = [...members.values()].filter((m) => m.proc.running).map((m) => m.id);
        const holders = r.replicas.map((x) => x.storeId);
        const voters = r.replicas.filter((x) => x.role === 'voter' && running.includes(x.storeId)).map((x) => x.storeId).sort((x, y) => x - y);
        const lacking = running.filter((id) => !holders.includes(id)).sort((x, y) => x - y);
        if (voters.length < (lacking.length > 0 ? 1 : 2)) {
          ev(`move-range: range ${r.rangeId} has too few running voters (${fmt(voters)}): skipped`);
          return;
        }
        const from = pick(voters, step.r[2]!);
        if (lacking.length > 0) {
          const to = pick(lacking, step.r[3]!);
          ev(`move-range: range ${r.rangeId} n${from} → n${to}${from === r.leaderId ? ' (its leader)' : ''}`);
          await moveReplica(a, r.rangeId, from, to, o);
        } else {
          const other = pick(voters.filter((x) => x !== from), step.r[3]!);
          ev(`move-range: range ${r.rangeId} on every member: remove n${from}${from === r.leaderId ? ' (its leader)' : ''}, move n${other} → n${from}, re-add n${other}`);
          await removeReplica(a, r.rangeId, from, o);
          await moveReplica(a, r.rangeId, other, from, o);
          await addReplica(a, r.rangeId, other, o);
        }
        ev(`move-range: range ${r.rangeId} done`);
      } catch (e) {
        ev(`move-range: ${(e as Error).message.split('\n')[0]}`);
      } finally {
        // A move cut short leaves the range on fewer members: give every running member its replica back.
        if (rangeId !== undefined) await restoreRange(a, rangeId, o).catch((e: unknown) => ev(`move-range: restoring range ${rangeId}: ${(e as Error).message.split('\n')[0]}`));
        a.close();
      }
    }

    async function restoreRange(a: AdminClient, rangeId: number, o: MoveOptions): Promise<void> {
      const r = (await collectShardMap(a)).ranges.find((x) => x.rangeId === rangeId);
      if (r === undefined) return;
      for (const m of members.values()) {
        if (!m.proc.running || r.replicas.some((x) => x.storeId === m.id && x.role === 'voter')) continue;
        ev(`move-range: range ${rangeId} lacks a voter on n${m.id}: adding it back`);
        await addReplica(a, rangeId, m.id, o);
      }
    }

    // The recipe's clients run until its six rounds are over, however long restarts take.
    let nemesisDone = false;
    void nemesis.then(() => (nemesisDone = true));
    const running = (): boolean => Date.now() < tWorkload + workloadMs || (plan.pinFollowers && !nemesisDone);
    await workload.run({ clients: plan.clients, seed: plan.seed, timeLimitMs: workloadMs, running, endpointsFor, clientOptions });
    stopNemesis = true;
    await nemesis;

    // Heal everything; restart members that are down; everyone must be running.
    healAll();
    for (const p of clientProxies.values()) p.setReplyDropProbability(0);
    for (const m of members.values()) {
      if (!m.proc.running) {
        const info = m.proc.exitInfo;
        if (info && info.signal !== 'SIGKILL') problems.push(`n${m.id} exited by itself (code=${info.code} signal=${info.signal})`);
        await m.proc.restart();
        ev(`restarted n${m.id} for the final phase`);
      }
    }
    ev('healed: all links open, all members running');

    // Recovery: a write succeeds within a bound.
    const tr = Date.now();
    const rc = new KvClient({ endpoints: [...members.values()].map((m) => m.proc.address), timeoutMs: 15_000, attemptTimeoutMs: 2000 });
    kvs.push(rc);
    let recoveryMs: number | undefined;
    try {
      await rc.put('jepsen/recovery', String(plan.seed));
      recoveryMs = Date.now() - tr;
      ev(`recovered: first write after healing in ${recoveryMs} ms`);
    } catch (e) {
      problems.push(`no successful write within 15 s of healing: ${(e as Error).message.split('\n')[0]}`);
    }

    // The workload's final reads (on every member, each through a client that reaches only it) and checks.
    const finalMembers = [...members.values()].map((m) => {
      const client = new KvClient({ endpoints: [m.proc.address], timeoutMs: 10_000 });
      kvs.push(client);
      return { id: m.id, client, endpoint: m.proc.address };
    });
    mkdirSync(seedDir, { recursive: true });
    const checked = await workload.check({ members: finalMembers }, seedDir);
    problems.push(...checked.problems);

    // A member that crashed by itself during the run is a bug even if it was restarted.
    for (const m of members.values()) if (m.proc.exitInfo && m.proc.exitInfo.signal !== 'SIGKILL') problems.push(`n${m.id} exited (code=${m.proc.exitInfo.code})`);

    const { ops, ...counts } = checked.counts;
    result = {
      seed: plan.seed,
      ok: control ? problems.some((p) => control.expect.test(p)) : problems.length === 0,
      failedChecks: problems.length > 0,
      problems,
      ops: ops ?? 0,
      counts: { ...counts, lostReplies: [...clientProxies.values()].reduce((x, p) => x + p.stats.resets, 0) },
      faults,
      events,
      recoveryMs,
      verdict: checked.verdict,
      outDir: undefined,
      durationMs: Date.now() - t0,
    };
    if (!result.ok || o.keepAlways) {
      writeFileSync(join(seedDir, 'history.json'), JSON.stringify(checked.history));
      result.outDir = seedDir;
    } else {
      rmSync(seedDir, { recursive: true, force: true });
    }
    return result;
  } catch (e) {
    problems.push(`harness: ${(e as Error).stack ?? e}`);
    result = { seed: plan.seed, ok: false, failedChecks: true, problems, ops: 0, counts: {}, faults, events, recoveryMs: undefined, verdict: '', outDir: seedDir, durationMs: Date.now() - t0 };
    return result;
  } finally {
    for (const c of kvs) c.close();
    for (const a of admins) a.close();
    for (const p of [...links.values(), ...clientProxies.values()]) await p.close().catch(() => undefined);
    for (const n of procs.values()) await n.kill9().catch(() => undefined);
    if (result && result.outDir) {
      const dir = result.outDir;
      mkdirSync(dir, { recursive: true });
      for (const n of procs.values()) n.collectLogs(dir);
      writeFileSync(join(dir, 'schedule.json'), JSON.stringify({ plan, events, problems: result.problems, faults, replay: o.replay }, null, 2));
      writeFileSync(join(dir, 'events.txt'), events.join('\n') + '\n');
    }
    for (const n of procs.values()) await n.cleanup().catch(() => undefined);
    if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
}

/**
 * An earlier run's artifacts of this seed (a failure, or --keep-always) are evidence: a replay would
 * otherwise delete them when it passes or overwrite them when it fails (2026-12-08: seed 97's only
 * non-linearizable history was lost so). They move aside to seed-<n>.<time>.
 */
function keepEarlierArtifacts(dir: string): void {
  if (existsSync(dir)) renameSync(dir, `${dir}.${new Date().toISOString().replace(/[:.]/g, '-')}`);
}

const fmt = (xs: number[]): string => `{${xs.map((x) => `n${x}`).join(',')}}`;
