// Assembles the replicated side of one kvs node: the classic-level engine shared by every group, the
// Raft transport, the router, the data group's Peer (group 1 at this stage), and a LocalStore running on
// top of it (commandSink = the Peer: writes become proposals; readBarrier = ReadIndex).
import { mkdir } from 'node:fs/promises';
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import type { Engine } from '../engine/engine.js';
import { LevelEngine } from '../engine/level-engine.js';
import { MemoryEngine } from '../engine/memory-engine.js';
import type { KvStore } from '../kv/api.js';
import { LocalStore, type LocalStoreOptions } from '../kv/local-store.js';
import { Peer } from './peer.js';
import { PeerStorage } from './peer-storage.js';
import { Router } from './router.js';
import { IdentityRegistry } from './identity.js';
import { RaftTransport } from './transport.js';
import { raftSizeLimits } from '../common/raft-limits.js';

export const DATA_GROUP_ID = 1;

export interface RaftNodeOptions {
  raftId: number;
  /** Initial members (raft id → raft address). With `join`, only used as an address book. */
  peers: Map<number, string>;
  /** Start empty and wait to be added (learner) and sent a snapshot. */
  join?: boolean;
  /** Client (Kv API) address advertised to peers (NotLeader hints). */
  clientAddress: string;
  /** Raft address advertised to peers (fallback when their address book lacks us). */
  raftAddress: string;
  dataDir?: string;
  engine?: Engine;
  logger: Logger;
  tickMs?: number;
  electionTick?: number;
  leaseRead?: boolean;
  compactThreshold?: number;
  compactKeep?: number;
  /**
   * gRPC message limit of every node's Raft service (--max-message-bytes): bounds commands, frames and
   * snapshot chunks (common/raft-limits.ts). Default: unbounded commands, default frame sizes.
   */
  maxMessageBytes?: number;
  /** This data dir's incarnation (server/config.ts checkRaftIdentity); '' / undefined = none (in-memory). */
  incarnation?: string;
  /** TEST ONLY (--test-disable-identity-check): admit wiped members, the negative control. Default true. */
  enforceIdentity?: boolean;
  /** Credentials of the Raft connections to peers (mutual TLS); default plaintext. */
  credentials?: ChannelCredentials;
  /** TLS transition: plaintext for peers that do not speak TLS (yet, or any more). */
  fallbackCredentials?: ChannelCredentials;
  /** LocalStore options (limits, GC, sessions, observer). */
  store?: Omit<LocalStoreOptions, 'dir' | 'engine' | 'commandSink' | 'groupId' | 'readBarrier'>;
}

export class RaftNode {
  private closed = false;
  private constructor(
    readonly raftId: number,
    readonly engine: Engine,
    readonly store: LocalStore,
    readonly peer: Peer,
    readonly transport: RaftTransport,
    readonly router: Router,
    private readonly logger: Logger,
  ) {}

  static async open(opts: RaftNodeOptions): Promise<RaftNode> {
    let engine = opts.engine;
    if (engine === undefined) {
      if (opts.dataDir !== undefined) {
        await mkdir(opts.dataDir, { recursive: true });
        engine = await LevelEngine.open(opts.dataDir);
      } else engine = new MemoryEngine();
    }
    const groupId = DATA_GROUP_ID;
    const sizes = opts.maxMessageBytes !== undefined ? raftSizeLimits(opts.maxMessageBytes) : undefined;
    try {
      const identity = new IdentityRegistry(opts.raftId, opts.incarnation ?? '', opts.enforceIdentity ?? true);
      if (!identity.enforce) opts.logger.warn('TEST ONLY: member identity check disabled: a wiped data dir is accepted as the same voter', { raftId: opts.raftId });
      const storage = await PeerStorage.open(engine, groupId, {
        bootstrapVoters: opts.join ? undefined : [...opts.peers.keys()],
        addresses: opts.peers,
        identity,
      });
      const router = new Router();
      const idLog = opts.logger.child({ component: 'raft-identity' });
      const lastLogged = new Map<number, number>();
      const term = (): number | undefined => {
        try {
          return router.get(groupId)?.status().term;
        } catch {
          return undefined; // not started yet
        }
      };
      const transport = new RaftTransport({
        selfId: opts.raftId,
        clientAddress: opts.clientAddress,
        raftAddress: opts.raftAddress,
        resolve: (id) => storage.addresses.get(id),
        logger: opts.logger.child({ component: 'raft-transport' }),
        ...(sizes !== undefined ? { maxFrameBytes: sizes.maxFrameBytes, snapshotChunkBytes: sizes.snapshotChunkBytes } : {}),
        incarnation: identity.selfIncarnation,
        ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
        ...(opts.fallbackCredentials !== undefined ? { fallbackCredentials: opts.fallbackCredentials } : {}),
        admit: (from, inc) => {
          const a = identity.admit(from, inc);
          if (a.ok) return a;
          const reason = `raft id ${from} presented data-dir incarnation ${inc}, but the group recorded ${a.recorded} for it (wiped or replaced data dir)`;
          // A refused node sends a frame every tick: one line when it starts, then one every 10 s.
          const now = Date.now();
          if (now - (lastLogged.get(from) ?? 0) >= 10_000) {
            lastLogged.set(from, now);
            idLog.error('refusing raft member: its data dir is not the one the group knows (never counted as a voter again; replace it with a new raft id)', {
              member: from,
              presented: inc,
              recorded: a.recorded,
              refusedFrames: identity.refused.get(from)?.count ?? 0,
              term: term(),
            });
          }
          return { ok: false, reason };
        },
      });
      transport.handlers = {
        onMessages: (msgs) => router.deliver(msgs),
        onSnapshot: (m, entries) => router.deliverSnapshot(m, entries),
        onUnreachable: (to, groups) => router.unreachable(to, groups),
        onIncarnation: (from, inc) => router.get(groupId)?.noteIncarnation(from, inc),
        onRefused: (by, reason) => {
          if (identity.refusedBy(by, reason)) {
            idLog.error('this node is refused by the group: its data dir is not the one recorded for this raft id; it will not vote. Replace it with a new raft id (--join as a learner)', {
              by,
              reason,
              incarnation: identity.selfIncarnation,
              term: term(),
            });
          }
        },
      };
      const peer = new Peer({
        groupId,
        raftId: opts.raftId,
        engine,
        storage,
        transport,
        logger: opts.logger,
        electionTick: opts.electionTick,
        leaseRead: opts.leaseRead,
        compactThreshold: opts.compactThreshold,
        compactKeep: opts.compactKeep,
        maxCommandBytes: sizes?.maxCommandBytes,
        unsafeSnapshotIsolation: opts.store?.unsafeSnapshotIsolation === true,
      });
      router.register(peer);
      const store = await LocalStore.open({
        ...opts.store,
        ...(sizes !== undefined ? { maxCommandBytes: sizes.maxCommandBytes } : {}),
        engine,
        groupId,
        readBarrier: () => peer.readBarrier(),
        commandSink: (sm, _engine, onApplied, replaceSm) => {
          peer.start(sm, onApplied, replaceSm, opts.tickMs ?? 100);
          return peer;
        },
      });
      // Tell the peers we (re)started right away (an empty frame with our incarnation; the peer is running
      // by now): their connections to our previous process are replaced at once, so the leader's next
      // heartbeat reaches us, instead of after our first election timeout (a restarted follower's first
      // message).
      transport.announce([...storage.addresses.keys()]);
      return new RaftNode(opts.raftId, engine, store, peer, transport, router, opts.logger);
    } catch (e) {
      await engine.close().catch(() => undefined);
      throw e;
    }
  }

  get kvStore(): KvStore {
    return this.store;
  }

  /**
   * Planned shutdown (SIGTERM: node drain, eviction, pod delete): if this node leads, hand leadership to
   * the most caught-up healthy voter and wait until it leads, so the group does not sit out an election
   * timeout after we are gone. Raft sends MsgTimeoutNow once the target's log matches ours (it campaigns
   * at once, no pre-vote wait); proposals arriving meanwhile are dropped with NotLeader and retried by
   * clients. Returns what happened, for the log; never throws (shutdown goes on regardless).
   */
  async handOffLeadership(timeoutMs: number): Promise<{ outcome: 'not-leader' | 'sole-voter' | 'no-target' | 'moved' | 'timeout'; to?: number; ms: number }> {
    const t0 = Date.now();
    const peer = this.peer;
    if (this.closed || !peer.isLeader) return { outcome: 'not-leader', ms: 0 };
    const st = peer.status();
    if (st.config.voters.every((v) => v === this.raftId)) return { outcome: 'sole-voter', ms: 0 };
    const target = st.progress
      .filter((p) => p.id !== this.raftId && st.config.voters.includes(p.id) && p.recentActive && p.state === 'Replicate')
      .sort((a, b) => b.match - a.match || a.id - b.id)[0];
    if (target === undefined) return { outcome: 'no-target', ms: Date.now() - t0 };
    peer.transferLeader(target.id);
    const moved = await peer.waitFor(() => peer.leader === target.id, timeoutMs);
    return { outcome: moved ? 'moved' : 'timeout', to: target.id, ms: Date.now() - t0 };
  }

  /** Closes the store (and with it the peer and the engine) and the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.transport.close();
    await this.store.close();
    this.logger.info('raft node closed', { raftId: this.raftId });
  }
}
