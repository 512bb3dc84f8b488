// Raft metrics of the node's groups in the node's Prometheus registry (/metrics): role, term, indexes,
// the Ready-loop / transport counters (monotonic values exported as gauges read at scrape time), and the
// per-stage latency histograms a Peer records (`RaftMetrics`): where the time between "proposal
// submitted / read barrier requested" and "result resolved" goes (docs/raft.md "Latency breakdown").
import client from 'prom-client';
import type { RaftNode } from './raft-node.js';
import { LevelEngine } from '../engine/level-engine.js';
import { HotHistogram, type HotHistogramChild } from '../common/hot-histogram.js';

/** Seconds; fine at the bottom (a loopback Ready stage is tens of µs) and up to an election. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const COUNT_BUCKETS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
const BYTE_BUCKETS = [0, 128, 512, 2048, 8192, 32768, 131072, 524288, 2097152, 8388608];

export type ReadyStage = 'persist' | 'send' | 'apply' | 'ready';
export type ProposalStage = 'queued' | 'committed' | 'applied' | 'resolved';
export type ReadStage = 'round' | 'wait_apply' | 'barrier';
export type WriteKind = 'log' | 'apply';

type H = HotHistogram;
type Child = HotHistogramChild;

/**
 * Latency/size histograms of one group's Ready loop. Created unregistered and attached to the node's
 * registry by `registerRaftMetrics` (the store's first range). Only an attached instance records: the
 * other ranges' observations would be computed for nobody (cheap now — common/hot-histogram.ts — but a
 * series set per range would make every scrape as large as the range count).
 */
export class RaftMetrics {
  readonly readyStage: H;
  readonly proposal: H;
  readonly appendPersist: H;
  readonly read: H;
  readonly readyEntries: H;
  readonly readyBytes: H;
  readonly writeOps: H;
  readonly writeBytes: H;
  private readonly children = new Map<H, Map<string, Child>>();
  /** Attached to a registry: observations are recorded (see the class comment). */
  recording = false;

  constructor(private readonly groupId: number) {
    const h = (name: string, help: string, labelNames: string[], buckets: number[]): H => new HotHistogram({ name, help, labelNames: ['group', ...labelNames], buckets });
    this.readyStage = h(
      'kvs_raft_ready_stage_seconds',
      'Ready loop stage durations: persist (entries + hard state engine write, synced when needed), send, apply (committed entries through the state machine; runs in the apply stage), ready (ready() → advance())',
      ['stage'],
      LATENCY_BUCKETS,
    );
    this.proposal = h(
      'kvs_raft_proposal_seconds',
      'proposal latency on the proposing node, from submit to: queued (taken into a Ready), committed (delivered as committed), applied (state machine write done), resolved (caller resolved)',
      ['stage'],
      LATENCY_BUCKETS,
    );
    this.appendPersist = h('kvs_raft_append_persist_seconds', 'engine write of a Ready carrying log entries (synced), by role', ['role'], LATENCY_BUCKETS);
    this.read = h(
      'kvs_raft_read_index_seconds',
      'linearizable reads: round (ReadIndex issued → read state back: leader quorum round, plus the hop to the leader on a follower), wait_apply (read state → applied ≥ index), barrier (first read of a batch joined → batch served)',
      ['stage'],
      LATENCY_BUCKETS,
    );
    this.readyEntries = h('kvs_raft_ready_entries', 'entries per Ready: appended (to the log) and committed', ['kind'], COUNT_BUCKETS);
    this.readyBytes = h('kvs_raft_ready_bytes', 'payload bytes per Ready: appended and committed', ['kind'], BYTE_BUCKETS);
    this.writeOps = h('kvs_raft_engine_write_ops', 'ops per engine write of the Ready loop: log (entries/hard state) or apply (state machine batch)', ['kind'], COUNT_BUCKETS);
    this.writeBytes = h('kvs_raft_engine_write_bytes', 'bytes per engine write of the Ready loop: log or apply', ['kind'], BYTE_BUCKETS);
  }

  private child(hist: H, label: string): Child {
    // Nested maps: no key string built per observation (several per Ready on the hot path).
    let byLabel = this.children.get(hist);
    if (byLabel === undefined) this.children.set(hist, (byLabel = new Map()));
    let c = byLabel.get(label);
    if (c === undefined) {
      // The second label name differs per histogram; the value is all a caller gives.
      c = hist.labels({ group: String(this.groupId), [hist.labelNames[1]!]: label });
      byLabel.set(label, c);
    }
    return c;
  }

  stage(s: ReadyStage, seconds: number): void {
    if (!this.recording) return;
    this.child(this.readyStage, s).observe(seconds);
  }
  proposalStage(s: ProposalStage, seconds: number): void {
    if (!this.recording) return;
    this.child(this.proposal, s).observe(seconds);
  }
  appendPersisted(role: 'leader' | 'follower' | 'candidate', seconds: number): void {
    if (!this.recording) return;
    this.child(this.appendPersist, role).observe(seconds);
  }
  readStage(s: ReadStage, seconds: number): void {
    if (!this.recording) return;
    this.child(this.read, s).observe(seconds);
  }
  readySize(kind: 'appended' | 'committed', entries: number, bytes: number): void {
    if (!this.recording) return;
    this.child(this.readyEntries, kind).observe(entries);
    this.child(this.readyBytes, kind).observe(bytes);
  }
  engineWrite(kind: WriteKind, ops: number, bytes: number): void {
    if (!this.recording) return;
    this.child(this.writeOps, kind).observe(ops);
    this.child(this.writeBytes, kind).observe(bytes);
  }

  /** Starts recording; the histograms to register. */
  attach(): H[] {
    this.recording = true;
    return this.all();
  }

  all(): H[] {
    return [this.readyStage, this.proposal, this.appendPersist, this.read, this.readyEntries, this.readyBytes, this.writeOps, this.writeBytes];
  }
}

/** Seconds since `t0` (a `performance.now()` reading). */
export function since(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/** Registers the node's Raft metrics (stage histograms, gauges) in its registry (replicated nodes only). */
export function registerRaftMetrics(registry: client.Registry, node: RaftNode): void {
  const peer = () => node.peer;
  for (const h of node.peer.metrics.attach()) registry.registerMetric(h.asMetric());
  const g = (name: string, help: string, value: () => number): void => {
    new client.Gauge({
      name,
      help,
      labelNames: ['group'],
      registers: [registry],
      collect() {
        try {
          this.set({ group: String(peer().groupId) }, value());
        } catch {
          /* not started yet */
        }
      },
    });
  };
  // Store-level shard gauges (the per-group series above are range 1's: per-range series for thousands of
  // ranges would be a cardinality problem; Admin.Ranges has the per-range view).
  const store = (name: string, help: string, value: () => number): void => {
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value());
      },
    });
  };
  store('kvs_store_ranges', 'range replicas this store holds', () => node.replicas.size);
  store('kvs_store_range_leaders', 'ranges this store leads', () => [...node.replicas.values()].filter((r) => r.peer.isLeader).length);
  store('kvs_store_ranges_quiesced', 'range replicas hibernating: not ticking or heartbeating until traffic or a store liveness change wakes them', () => [...node.replicas.values()].filter((r) => r.peer.quiesced).length);
  store('kvs_store_quiesces', 'times a range replica of this store quiesced (monotonic)', () => [...node.replicas.values()].reduce((a, r) => a + r.peer.stats.quiesced, 0));
  store('kvs_store_wakes', 'times a quiesced range replica of this store woke (monotonic)', () => [...node.replicas.values()].reduce((a, r) => a + r.peer.stats.wakes, 0));
  new client.Gauge({
    name: 'kvs_store_wakes_by_reason',
    help: 'times a quiesced range replica of this store woke, by reason: message, proposal, gc (a safe-point proposal), read, leader-down, liveness, campaign, conf-change, transfer, admin (monotonic)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const [reason, n] of node.wakeReasons) this.set({ reason }, n);
    },
  });
  store('kvs_store_ranges_awake', 'range replicas the store tick visits (not hibernating)', () => node.awake.size);
  store('kvs_store_tick_replica_ticks', 'replica ticks of the store tick pass: it visits awake replicas only (monotonic)', () => node.tickStats.replicaTicks);
  store('kvs_store_gc_passes', 'store-wide GC passes (one timer for every range) (monotonic)', () => node.gcStats.passes);
  store('kvs_store_gc_steps', 'range GC steps the store-wide passes ran: ranges with something to do (monotonic)', () => node.gcStats.steps);
  store('kvs_store_gc_wakes', 'hibernating ranges woken by a GC pass for their safe-point proposal (monotonic)', () => node.gcStats.wakes);
  store('kvs_store_liveness_longest_pause_ms', 'longest pause of this store itself between two liveness checks (event loop lag beyond two ticks), ms', () => node.liveness.longestPauseMs);
  store('kvs_store_liveness_pauses', 'liveness checks that followed a pause of this store itself: its peers were not judged on that silence (monotonic)', () => node.liveness.pausesForgiven);
  store('kvs_store_peers_down', 'peer stores this store has not heard from for an election timeout (store liveness)', () => node.liveness.downStores().length);
  store('kvs_store_log_writes', 'engine writes of the Raft logs and apply batches of all ranges of this store: one group-commit batch each (monotonic)', () => node.logWriter.stats.writes);
  store('kvs_store_apply_requests', 'range apply batches written through the group commit (monotonic)', () => node.logWriter.stats.applyRequests);
  store('kvs_store_log_synced_writes', 'synced group-commit writes of the Raft logs (one fsync each) (monotonic)', () => node.logWriter.stats.syncedWrites);
  store('kvs_store_log_synced_requests', 'range log writes that needed a sync; / kvs_store_log_synced_writes = fsyncs saved by group commit (monotonic)', () => node.logWriter.stats.syncedRequests);
  store('kvs_store_wal_writes', 'synced group writes made durable by a Raft log WAL record (one fdatasync of the WAL) instead of a LevelDB sync (monotonic)', () => node.logWriter.stats.walWrites);
  store('kvs_store_wal_checkpoints', 'LevelDB syncs that let Raft log WAL segments go (monotonic)', () => node.logWriter.stats.checkpoints);
  store('kvs_store_wal_bytes', 'bytes appended to the Raft log WAL (monotonic)', () => node.logWriter.logWal?.stats.bytes ?? 0);
  // Point reads served synchronously on the event loop vs through the thread pool (engine/sync-read-gate.ts):
  // many slow ones mean the data no longer fits the caches and reads went back to the thread pool.
  const gate = node.engine instanceof LevelEngine ? node.engine.syncReads : undefined;
  if (gate !== undefined) {
    store('kvs_engine_sync_point_reads', 'keys read synchronously on the event loop (served from a cache) (monotonic)', () => gate.stats.sync);
    store('kvs_engine_async_point_reads', 'keys read through the thread pool because a recent synchronous read was slow (monotonic)', () => gate.stats.async);
    store('kvs_engine_slow_sync_reads', 'synchronous reads slower than a cache hit (each sends the next reads to the thread pool) (monotonic)', () => gate.stats.slow);
  }
  store('kvs_store_proposals', 'proposals made by all range replicas of this store, forwarded ones included (monotonic)', () => [...node.replicas.values()].reduce((a, r) => a + r.peer.stats.proposals, 0));
  store('kvs_store_applied_entries', 'Raft entries applied by all range replicas of this store (monotonic)', () => [...node.replicas.values()].reduce((a, r) => a + r.peer.stats.applied, 0));
  store('kvs_store_floor_noops', 'noops a leader appended before a forwarded proposal to cover its timestamp promises (monotonic)', () => [...node.replicas.values()].reduce((a, r) => a + r.peer.stats.floorNoops, 0));
  store('kvs_store_readies', 'Readies handled by all range replicas of this store (monotonic)', () => [...node.replicas.values()].reduce((a, r) => a + r.peer.stats.readies, 0));
  // Cross-range transactions (kv/txn-locks.ts): locks held by prepared transactions (a lock older than its
  // TTL that nobody resolves would show here), records of decided ones, and the resolver's work.
  store('kvs_txn_locks', 'locks of prepared cross-range transactions in this store\'s range replicas (point + range locks)', () => [...node.replicas.values()].reduce((a, r) => a + r.store.sm.locks.lockCount + r.store.sm.locks.allRangeLocks.length, 0));
  store('kvs_txn_records', 'decided cross-range transaction records kept by this store\'s range replicas', () => [...node.replicas.values()].reduce((a, r) => a + r.store.sm.locks.recordCount, 0));
  store('kvs_txn_locks_resolved', 'locks of other transactions this store settled: rolled forward or back through their primary (monotonic)', () => node.kv.resolver.stats.committed + node.kv.resolver.stats.rolledBack);
  store('kvs_txn_recoveries', 'staging transactions (parallel commits) this store decided through their participants: a dead coordinator\'s, or a retried commit\'s (monotonic)', () => node.kv.resolver.stats.recovered);
  store('kvs_txn_lock_waits', 'backoffs of requests waiting for a live lock of a prepared transaction (monotonic)', () => node.kv.resolver.stats.waited);
  store('kvs_txn_lock_early_checks', 'live locks (older than 100 ms) checked at their primary before their TTL ended (monotonic)', () => node.kv.resolver.stats.earlyChecks);
  store('kvs_txn_lock_early_settled', 'of those, settled at once because the primary had recorded the outcome (monotonic)', () => node.kv.resolver.stats.earlySettled);
  store('kvs_raft_transport_pings', 'store liveness pings sent: empty frames to peer stores that got nothing else since the last ping round (monotonic)', () => node.transport.stats.pings);
  g('kvs_raft_term', 'current Raft term', () => peer().status().term);
  g('kvs_raft_is_leader', '1 when this node is the leader of the group', () => (peer().isLeader ? 1 : 0));
  g('kvs_raft_leader_id', 'raft id of the leader this node knows (0 = none)', () => peer().leader);
  // The alert rules compare the voters a group should have with the members Prometheus hears from
  // (charts/kvs-operator/alerts/kvs.rules.yaml: KvsMemberDown, KvsQuorumAtRisk).
  g('kvs_raft_voters', 'voters in the (incoming) configuration this node knows', () => peer().status().config.voters.length);
  g('kvs_raft_is_voter', '1 when this node is a voter of its group (0: learner or removed)', () => {
    const s = peer().status();
    return s.config.voters.includes(s.id) || s.config.votersOutgoing.includes(s.id) ? 1 : 0;
  });
  g('kvs_raft_commit_index', 'commit index', () => peer().status().commit);
  g('kvs_raft_applied_index', 'applied index', () => peer().appliedIndex);
  g('kvs_raft_first_index', 'first index of the (compacted) log', () => peer().status().firstIndex);
  g('kvs_raft_last_index', 'last index of the log', () => peer().status().lastIndex);
  g('kvs_raft_readies', 'Ready batches handled (monotonic)', () => peer().stats.readies);
  g('kvs_raft_synced_writes', 'synced engine writes of the Raft log (monotonic)', () => peer().stats.syncedWrites);
  g('kvs_raft_mid_ready_sends', 'messages sent while a Ready was in flight (appends, heartbeats, read index traffic) (monotonic)', () => peer().stats.midReadySends);
  g('kvs_raft_proposals', 'proposals made on this node (monotonic)', () => peer().stats.proposals);
  g('kvs_raft_applied_entries', 'entries applied (monotonic)', () => peer().stats.applied);
  g('kvs_raft_read_index_rounds', 'ReadIndex requests issued; reads share them (monotonic)', () => peer().stats.readIndexRounds);
  g('kvs_raft_reads', 'linearizable read barriers requested (monotonic)', () => peer().stats.reads);
  g('kvs_raft_lease_reads', 'reads this node confirmed from its leader lease, no heartbeat round: its own (answered in place, no Ready) and followers\' ReadIndex requests (monotonic)', () => peer().rn.raft.leaseReadCount);
  g('kvs_raft_snapshots_installed', 'snapshots installed (monotonic)', () => peer().stats.snapshotsInstalled);
  g('kvs_raft_snapshots_generated', 'snapshots generated for followers (monotonic)', () => peer().stats.snapshotsGenerated);
  g('kvs_raft_identity_refused', '1 when a peer refused this node: its data dir is not the one the group recorded for its raft id (wiped/replaced); it never votes again — replace it with a new raft id', () => (peer().identity.selfRefused !== undefined ? 1 : 0));
  g('kvs_raft_identity_records', 'members whose data-dir incarnation the group recorded', () => peer().identity.recorded.size);
  // Per refused sender: frames dropped because they carried another incarnation than the recorded one.
  new client.Gauge({
    name: 'kvs_raft_peer_identity_refused',
    help: 'frames refused from a peer whose data-dir incarnation differs from the one the group recorded for its raft id (a wiped or replaced member; its votes and acks are dropped) (monotonic)',
    labelNames: ['group', 'peer'],
    registers: [registry],
    collect() {
      try {
        this.reset();
        for (const r of peer().identity.refused.values()) this.set({ group: String(peer().groupId), peer: String(r.raftId) }, r.count);
      } catch {
        /* not started yet */
      }
    },
  });
  const t = (name: string, help: string, value: () => number) => g(name, help, value);
  t('kvs_raft_transport_frames_sent', 'transport frames sent (monotonic)', () => node.transport.stats.framesSent);
  t('kvs_raft_transport_messages_sent', 'raft messages sent (monotonic)', () => node.transport.stats.messagesSent);
  t('kvs_raft_transport_bytes_sent', 'encoded raft message bytes sent, frame envelope excluded (monotonic)', () => node.transport.stats.bytesSent);
  t('kvs_raft_transport_heartbeats_sent', 'MsgHeartbeat + MsgHeartbeatResp sent, every range (monotonic)', () => node.transport.stats.heartbeatsSent);
  t('kvs_raft_transport_heartbeat_bytes_sent', 'encoded bytes of the MsgHeartbeat + MsgHeartbeatResp sent (monotonic)', () => node.transport.stats.heartbeatBytesSent);
  t('kvs_raft_transport_messages_dropped', 'raft messages dropped: peer unreachable (monotonic)', () => node.transport.stats.dropped);
  t('kvs_raft_transport_messages_received', 'raft messages received (monotonic)', () => node.transport.stats.messagesReceived);
}
