// One simulation run (one seed): random cluster/knobs, clients, nemesis (crashes, partitions,
// lossy network, leader transfers, membership changes), then heal and check liveness, and
// finally check the client history for linearizability.

import {
  type ConfChange,
  type ConfState,
  ConfChangeTransition,
  ConfChangeType,
  MemoryStorage,
  ProposalDroppedError,
  StateType,
  ReadOnlyOption,
  isJoint,
  keyToBytes,
  EMPTY,
} from '../../node/src/raft/index.js';
import { Prng } from './prng.js';
import { SimCluster, type SimNode, TICK_MS } from './cluster.js';
import { encodeCommand, type Command, type KvOp, type OpResult, type Value } from './kv.js';
import { checkHistory, type HistoryOp } from './linearizability.js';

export interface RunOptions {
  verbose?: boolean;
  /** Virtual duration of the faulty phase, in ms. */
  durationMs?: number;
  /** Bound for liveness after healing, in ms. */
  livenessMs?: number;
  /** Test-only: a host that sends before persisting (the checkers must notice). */
  unsafeSendBeforeSync?: boolean;
}

export interface SeedResult {
  seed: number;
  ok: boolean;
  error?: string;
  summary: string;
  trace?: string[];
  ops: number;
  committed: number;
  elapsedMs: number;
  /** Counters summed by the runner to show what the runs exercised. */
  coverage: Record<string, number>;
}

interface PendingOp {
  h: HistoryOp;
  node: number;
  seq: number;
  ctx?: string;
  deadline: number;
}

class Client {
  seq = 0;
  pending: PendingOp | undefined;
  leaderHint = 0;
  constructor(readonly id: number) {}
}

const KEYS = ['a', 'b', 'c'];

export function runSeed(seed: number, opts: RunOptions = {}): SeedResult {
  const started = Date.now();
  const rng = new Prng(seed);
  const durationMs = opts.durationMs ?? 15000;
  const livenessMs = opts.livenessMs ?? 3000;

  const size = rng.chance(0.5) ? 3 : 5;
  const checkQuorum = rng.chance(0.6);
  const knobs = {
    preVote: rng.chance(0.6),
    checkQuorum,
    // Lease reads need check-quorum; half of those runs use them.
    readOnlyOption: checkQuorum && rng.chance(0.5) ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
    // Without forwarding, followers reject proposals with a leader hint the client follows.
    disableProposalForwarding: rng.chance(0.25),
    // Flow-control and pagination limits (0 = unlimited), small enough to bite sometimes.
    maxInflightBytes: rng.pick([0, 0, 300]),
    maxCommittedSizePerReady: rng.pick([1 << 20, 1 << 20, 200]),
    maxUncommittedEntriesSize: rng.pick([0, 0, 400]),
    maxSizePerMsg: rng.pick([120, 1000, 1 << 20]),
    maxInflightMsgs: rng.pick([1, 4, 64]),
    electionTick: 10,
    heartbeatTick: rng.pick([1, 2, 3]),
  };
  const membership = rng.chance(0.7);
  const history: HistoryOp[] = [];
  const clients = [1, 2, 3, 4].map((id) => new Client(id));
  let nextOpId = 0;
  let nextNodeId = size + 1;
  let livenessSeq = 0;
  let livenessApplied = false;
  const LIVENESS_CLIENT = 1000;

  const complete = (c: Client, result: OpResult | undefined, value?: Value): void => {
    const p = c.pending!;
    p.h.ret = cluster.now;
    p.h.result = result ?? (p.h.op.kind === 'get' ? { kind: 'get', value: value ?? null } : undefined);
    c.pending = undefined;
  };

  const cluster: SimCluster = new SimCluster(
    rng.fork(),
    knobs,
    {
      onApplied(node: SimNode, cmd: Command, result: OpResult | undefined) {
        if (cmd.client === LIVENESS_CLIENT) {
          if (cmd.seq === livenessSeq) livenessApplied = true;
          return;
        }
        const c = clients[cmd.client - 1];
        if (!c || !c.pending || c.pending.ctx !== undefined) return;
        if (c.pending.node === node.id && c.pending.seq === cmd.seq && result) complete(c, result);
      },
      onReadReady(node: SimNode, ctx: string, value: (key: string) => Value) {
        for (const c of clients) {
          if (c.pending && c.pending.ctx === ctx && c.pending.node === node.id) {
            complete(c, { kind: 'get', value: value(c.pending.h.op.key) });
          }
        }
      },
      onConfApplied(_node: SimNode, _cc: ConfChange, before: ConfState, after: ConfState) {
        const members = (cs: ConfState): Set<number> => new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext]);
        const b = members(before);
        const a = members(after);
        for (const id of b) {
          const n = cluster.nodes.get(id);
          if (!a.has(id) && n && !n.removed) cluster.destroy(n);
        }
      },
    },
    opts.verbose ?? false,
  );
  cluster.unsafeSendBeforeSync = opts.unsafeSendBeforeSync ?? false;
  cluster.faults = {
    drop: rng.pick([0, 0.01, 0.05, 0.15]),
    dup: rng.pick([0, 0.02, 0.1]),
    maxDelay: rng.pick([2, 5, 15]),
    longDelay: rng.pick([0, 0.01]),
  };
  cluster.snapshotEvery = rng.pick([5, 20, 60]);
  cluster.keepEntries = rng.pick([0, 5, 30]);
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  for (const id of ids) cluster.addNode(id, MemoryStorage.bootstrap(ids));

  const summary =
    `nodes=${size} preVote=${knobs.preVote} checkQuorum=${knobs.checkQuorum} reads=${knobs.readOnlyOption} fwd=${!knobs.disableProposalForwarding} maxMsg=${knobs.maxSizePerMsg} ` +
    `inflight=${knobs.maxInflightMsgs} hb=${knobs.heartbeatTick} membership=${membership} ` +
    `drop=${cluster.faults.drop} dup=${cluster.faults.dup} delay=${cluster.faults.maxDelay}`;
  cluster.log(`seed ${seed}: ${summary}`);

  // ---- workload ------------------------------------------------------------------------

  const issue = (c: Client): void => {
    const up = cluster.upNodes();
    if (up.length === 0) return;
    const hinted = cluster.nodes.get(c.leaderHint);
    // Mostly the hinted leader; sometimes any node; sometimes any node that *believes* it
    // is leader — including a deposed one in a minority partition (stale-read hunting).
    const believers = up.filter((n) => n.raw!.raft.state === StateType.Leader);
    const roll = rng.next();
    const node =
      roll < 0.25 && believers.length > 0 ? rng.pick(believers) : hinted && hinted.up && roll < 0.85 ? hinted : rng.pick(up);
    const key = rng.pick(KEYS);
    const r = rng.next();
    let op: KvOp;
    if (r < 0.4) op = { kind: 'get', key };
    else if (r < 0.75) op = { kind: 'put', key, value: c.id * 1_000_000 + c.seq + 1 };
    else op = { kind: 'cas', key, expect: rng.chance(0.2) ? null : rng.int(0, 3) === 0 ? c.id * 1_000_000 + c.seq : lastPutValue(key), value: c.id * 1_000_000 + c.seq + 1 };
    const seq = ++c.seq;
    const h: HistoryOp = { id: nextOpId++, client: c.id, op, call: cluster.now, ret: Infinity };
    const raw = node.raw!;
    if (op.kind === 'get') {
      const ctx = `r:${c.id}:${seq}`;
      raw.readIndex(keyToBytes(ctx));
      history.push(h);
      c.pending = { h, node: node.id, seq, ctx, deadline: cluster.now + 400 };
      cluster.log(`client ${c.id} get(${key}) via n${node.id}`);
      return;
    }
    try {
      raw.propose(encodeCommand({ client: c.id, seq, op }));
    } catch (e) {
      if (e instanceof ProposalDroppedError) {
        // Definitely not proposed: no effect, not part of the history.
        c.leaderHint = e.leaderHint;
        return;
      }
      throw e;
    }
    history.push(h);
    c.pending = { h, node: node.id, seq, deadline: cluster.now + 800 };
    cluster.log(`client ${c.id} ${op.kind}(${key}) seq=${seq} via n${node.id}`);
  };

  const lastPuts = new Map<string, number>();
  const lastPutValue = (key: string): Value => lastPuts.get(key) ?? null;

  const runClients = (allowNew: boolean): void => {
    for (const c of clients) {
      if (c.pending) {
        const n = cluster.nodes.get(c.pending.node);
        if (!n || !n.up || cluster.now >= c.pending.deadline) {
          // Outcome unknown (crash/timeout): stays in the history with ret = ∞.
          c.pending = undefined;
        }
        continue;
      }
      if (allowNew && rng.chance(0.15)) {
        issue(c);
        const p = c.pending as PendingOp | undefined;
        if (p && p.h.op.kind === 'put') lastPuts.set(p.h.op.key, p.h.op.value);
      }
    }
    for (const c of clients) {
      const l = cluster.leader();
      if (l && rng.chance(0.01)) c.leaderHint = l.id;
    }
  };

  // ---- nemesis -------------------------------------------------------------------------

  const proposeConf = (leader: SimNode, cc: ConfChange, what: string): void => {
    try {
      leader.raw!.proposeConfChange(cc);
      cluster.log(`nemesis: propose ${what} on n${leader.id}`);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  };

  const membershipChange = (): void => {
    const l = cluster.leader();
    if (!l) return;
    const r = l.raw!.raft;
    if (r.pendingConfIndex > r.raftLog.applied) return;
    const cfg = r.trk.config;
    if (isJoint(cfg)) {
      if (!cfg.autoLeave) proposeConf(l, { transition: ConfChangeTransition.Auto, changes: [], context: EMPTY }, 'leave joint');
      return;
    }
    const voters = [...cfg.voters[0]];
    const learners = [...cfg.learners];
    const caughtUp = learners.filter((id) => (r.trk.progress.get(id)?.match ?? 0) + 5 >= r.raftLog.committed);
    const transition = (): ConfChangeTransition =>
      rng.pick([ConfChangeTransition.Auto, ConfChangeTransition.JointImplicit, ConfChangeTransition.JointExplicit]);
    const choice = rng.int(0, 3);
    if (choice === 0 && voters.length + learners.length < 5) {
      const id = nextNodeId++;
      cluster.addNode(id, new MemoryStorage());
      proposeConf(l, { transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddLearner, nodeId: id }], context: EMPTY }, `add learner n${id}`);
    } else if (choice === 1 && caughtUp.length > 0 && voters.length < 5) {
      const id = rng.pick(caughtUp);
      proposeConf(l, { transition: transition(), changes: [{ type: ConfChangeType.AddNode, nodeId: id }], context: EMPTY }, `promote n${id}`);
    } else if (choice === 2 && voters.length > 3) {
      const id = rng.pick(voters);
      proposeConf(l, { transition: transition(), changes: [{ type: ConfChangeType.RemoveNode, nodeId: id }], context: EMPTY }, `remove n${id}`);
    } else if (choice === 3 && caughtUp.length > 0) {
      // Replace a voter by a caught-up learner in one joint change.
      const add = rng.pick(caughtUp);
      const rem = rng.pick(voters);
      proposeConf(
        l,
        {
          transition: rng.pick([ConfChangeTransition.Auto, ConfChangeTransition.JointImplicit, ConfChangeTransition.JointExplicit]),
          changes: [
            { type: ConfChangeType.AddNode, nodeId: add },
            { type: ConfChangeType.RemoveNode, nodeId: rem },
          ],
          context: EMPTY,
        },
        `replace n${rem} by n${add}`,
      );
    } else if (learners.length > 0 && rng.chance(0.2)) {
      const id = rng.pick(learners);
      proposeConf(l, { transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.RemoveNode, nodeId: id }], context: EMPTY }, `remove learner n${id}`);
    }
  };

  const quickRestart: { at: number; id: number }[] = [];
  const nemesis = (): void => {
    const live = [...cluster.nodes.values()].filter((n) => !n.removed);
    const action = rng.int(0, 11);
    switch (action) {
      case 10: {
        // Crash the leader, preferably while its own write is still unsynced, and bring
        // it back soon: the window where a leader must not count its non-durable entries.
        const l = cluster.leader();
        if (!l) break;
        cluster.crash(l);
        if (rng.chance(0.7)) quickRestart.push({ at: cluster.now + rng.int(1, 60), id: l.id });
        break;
      }
      case 11: {
        // Isolate the leader (a minority leader keeps accepting proposals it can't commit).
        const l = cluster.leader();
        if (!l) break;
        cluster.partitions.clear();
        for (const n of live) if (n.id !== l.id) cluster.partitions.add(`${n.id}-${l.id}`).add(`${l.id}-${n.id}`);
        cluster.log(`nemesis: isolate leader n${l.id}`);
        break;
      }
      case 0:
      case 1: {
        const up = live.filter((n) => n.up);
        if (up.length) cluster.crash(rng.pick(up));
        break;
      }
      case 2:
      case 3: {
        const down = live.filter((n) => !n.up);
        if (down.length) cluster.restart(rng.pick(down));
        break;
      }
      case 4: {
        // Random bipartition (or isolate one node).
        cluster.partitions.clear();
        const ids = live.map((n) => n.id);
        const side = new Set(ids.filter(() => rng.chance(0.5)));
        for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) cluster.partitions.add(`${a}-${b}`);
        cluster.log(`nemesis: partition {${[...side]}} | {${ids.filter((i) => !side.has(i))}}`);
        break;
      }
      case 5:
        cluster.partitions.clear();
        cluster.log('nemesis: heal partitions');
        break;
      case 6: {
        const l = cluster.leader();
        if (!l) break;
        const voters = l.raw!.raft.trk.voterIds().filter((id) => id !== l.id);
        if (!voters.length) break;
        const to = rng.pick(voters);
        // Usually ask the leader; sometimes ask a follower (forwarded to the leader).
        const via = rng.chance(0.7) ? l : rng.pick(cluster.upNodes());
        via.raw!.transferLeader(to);
        cluster.log(`nemesis: transfer leadership n${l.id} → n${to} (via n${via.id})`);
        break;
      }
      case 7:
      case 8:
        if (membership) membershipChange();
        break;
      case 9:
        cluster.faults.drop = rng.pick([0, 0.01, 0.05, 0.2]);
        break;
    }
  };

  // ---- run -----------------------------------------------------------------------------

  let error: string | undefined;
  let nextNemesis = rng.int(50, 300);
  try {
    for (; cluster.now < durationMs; ) {
      if (cluster.now >= nextNemesis) {
        nemesis();
        nextNemesis = cluster.now + rng.int(10, 250);
      }
      for (let i = quickRestart.length - 1; i >= 0; i--) {
        const q = quickRestart[i]!;
        if (q.at <= cluster.now) {
          quickRestart.splice(i, 1);
          const n = cluster.nodes.get(q.id);
          if (n) cluster.restart(n);
        }
      }
      runClients(true);
      cluster.stepTime();
    }

    // Heal everything, then require progress within a bounded time.
    cluster.partitions.clear();
    cluster.faults = { drop: 0, dup: 0, maxDelay: 5, longDelay: 0 };
    for (const n of cluster.nodes.values()) if (!n.removed && !n.up) cluster.restart(n);
    cluster.log('=== healed: checking liveness ===');
    const healedAt = cluster.now;
    let nextTry = cluster.now;
    while (!livenessApplied && cluster.now - healedAt < livenessMs) {
      const l = cluster.leader();
      if (l && cluster.now >= nextTry) {
        nextTry = cluster.now + 200;
        const r = l.raw!.raft;
        if (isJoint(r.trk.config) && !r.trk.config.autoLeave && r.pendingConfIndex <= r.raftLog.applied) {
          proposeConf(l, { transition: ConfChangeTransition.Auto, changes: [], context: EMPTY }, 'leave joint');
        }
        livenessSeq++;
        try {
          l.raw!.propose(encodeCommand({ client: LIVENESS_CLIENT, seq: livenessSeq, op: { kind: 'put', key: 'liveness', value: livenessSeq } }));
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
      }
      runClients(false);
      cluster.stepTime();
    }
    if (!livenessApplied) {
      const l = cluster.leader();
      throw new Error(
        `liveness: no proposal committed within ${livenessMs}ms (${livenessMs / TICK_MS} ticks) after healing; leader=${l ? l.id : 'none'} ` +
          [...cluster.nodes.values()]
            .filter((n) => n.up)
            .map((n) => `n${n.id}:${n.raw!.raft.state}/t${n.raw!.raft.term}/c${n.raw!.raft.raftLog.committed}/l${n.raw!.raft.raftLog.lastIndex()}`)
            .join(' '),
      );
    }
    // Let everyone catch up, then compare replicas.
    for (let i = 0; i < 1000; i++) {
      runClients(false);
      cluster.stepTime();
    }
    const up = cluster.upNodes();
    cluster.checker.checkLogsPairwise(up.map((n) => n.raw!.raft));
    const maxApplied = Math.max(...up.map((n) => n.sm.appliedIndex));
    const leaders = up.filter((n) => n.raw!.raft.state === StateType.Leader);
    if (leaders.length !== 1) throw new Error(`liveness: ${leaders.length} leaders after quiescence`);
    const ref = up.find((n) => n.sm.appliedIndex === maxApplied)!;
    for (const n of up) {
      const member = n.raw!.raft.trk.progress.has(n.id);
      if (member && n.sm.appliedIndex !== maxApplied) {
        throw new Error(`convergence: n${n.id} applied ${n.sm.appliedIndex}, n${ref.id} applied ${maxApplied}`);
      }
      if (n.sm.appliedIndex === maxApplied && n.sm.dump() !== ref.sm.dump()) {
        throw new Error(`convergence: n${n.id} and n${ref.id} differ at applied index ${maxApplied}`);
      }
    }
    // Pending client ops at the end stay indeterminate.
    const lin = checkHistory(history);
    if (!lin.ok) {
      const ops = (lin.ops ?? [])
        .map((o) => `  c${o.client} ${JSON.stringify(o.op)} [${o.call}, ${o.ret}] → ${JSON.stringify(o.result)}`)
        .join('\n');
      throw new Error(`linearizability: history for key ${lin.key} is not linearizable\n${ops}`);
    }
  } catch (e) {
    error = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
  }
  return {
    seed,
    ok: error === undefined,
    error,
    summary: `${summary} ops=${history.length} completed=${history.filter((h) => h.ret !== Infinity).length} commit=${cluster.checker.maxCommitted} ` +
      `crashes=${cluster.stats.crashes} msgs=${cluster.stats.sent} dropped=${cluster.stats.dropped} snaps=${cluster.stats.snapshotsSent}`,
    trace: cluster.trace,
    ops: history.length,
    committed: cluster.checker.maxCommitted,
    elapsedMs: Date.now() - started,
    coverage: {
      elections: cluster.checker.elections,
      crashes: cluster.stats.crashes,
      crashesWithUnsynced: cluster.stats.crashesWithUnsynced,
      snapshotsInstalled: cluster.stats.snapshotsInstalled,
      confChangesApplied: cluster.stats.confChangesApplied,
      completedOps: history.filter((h) => h.ret !== Infinity).length,
      completedReads: history.filter((h) => h.ret !== Infinity && h.op.kind === 'get').length,
      leaseSeeds: knobs.readOnlyOption === ReadOnlyOption.LeaseBased ? 1 : 0,
    },
  };
}
