// A scripted run of the Raft paper's figure 8 inside the simulator (real host loop, network,
// disks, crashes): an entry of an old term that reaches a majority must not be committed by
// counting replicas, because a server with a later last term can still be elected and
// overwrite it. The SafetyChecker (leader completeness) flags the run if the core commits it.
// Random seeds vary timing (delays, disk latency, election timeouts); the scripted fault
// schedule is fixed.

import { MemoryStorage, ReadOnlyOption, StateType } from '../../node/src/raft/index.js';
import { Prng } from './prng.js';
import { SimCluster, type SimNode } from './cluster.js';
import { encodeCommand } from './kv.js';

export interface Figure8Result {
  /** False if timing made the script deviate (e.g. another node won an election); nothing was checked then. */
  reached: boolean;
  /** Was the old-term entry X committed by counting replicas (without a current-term quorum)? Must be false. */
  xCommitted: boolean;
  /** Was S5 (the server with the later-term conflicting entry) elected at the end? */
  s5Elected: boolean;
  trace?: string[];
}

export function runFigure8(seed: number, verbose = false): Figure8Result {
  const rng = new Prng(seed);
  const cluster = new SimCluster(
    rng.fork(),
    {
      preVote: false,
      checkQuorum: false,
      // One entry per append and one append in flight: the old-term entry and the new leader's
      // entry travel separately, which is what makes counting replicas dangerous.
      maxSizePerMsg: 1,
      maxInflightMsgs: 1,
      electionTick: 10,
      heartbeatTick: 1,
      readOnlyOption: ReadOnlyOption.Safe,
      disableProposalForwarding: true,
      maxInflightBytes: 0,
      maxCommittedSizePerReady: 1 << 20,
      maxUncommittedEntriesSize: 0,
    },
    { onApplied() {}, onReadReady() {}, onConfApplied() {} },
    verbose,
  );
  cluster.faults = { drop: 0, dup: 0, maxDelay: rng.int(1, 3), longDelay: 0 };
  const ids = [1, 2, 3, 4, 5];
  for (const id of ids) cluster.addNode(id, MemoryStorage.bootstrap(ids));
  const node = (id: number): SimNode => cluster.nodes.get(id)!;
  const runUntil = (limitMs: number, done: () => boolean): boolean => {
    for (let i = 0; i < limitMs; i++) {
      if (done()) return true;
      cluster.stepTime();
    }
    return done();
  };
  const partition = (...groups: number[][]): void => {
    cluster.partitions.clear();
    for (const g of groups) {
      for (const h of groups) {
        if (g === h) continue;
        for (const a of g) for (const b of h) cluster.partitions.add(`${a}-${b}`);
      }
    }
    cluster.log(`script: partition ${groups.map((g) => `{${g}}`).join(' ')}`);
  };
  const isLeader = (id: number): boolean => node(id).raw?.raft.state === StateType.Leader;
  const propose = (id: number, v: number): void =>
    node(id).raw!.propose(encodeCommand({ client: 1, seq: v, op: { kind: 'put', key: 'x', value: v } }));

  // (a) S1 leader; replicate X to S2 only.
  const notReached = (): Figure8Result => ({ reached: false, xCommitted: false, s5Elected: false, trace: cluster.trace });
  node(1).raw!.campaign();
  if (!runUntil(500, () => isLeader(1))) return notReached();
  runUntil(100, () => node(1).raw!.raft.raftLog.committed >= 2);
  partition([1, 2], [3, 4, 5]);
  propose(1, 1);
  const xIdx = node(1).raw!.raft.raftLog.lastIndex();
  if (!runUntil(300, () => node(1).durable.lastIndex() >= xIdx && node(2).durable.lastIndex() >= xIdx)) return notReached();

  // (b) S1 crashes; S5 is elected by S3, S4 and writes Y locally only, then crashes.
  cluster.crash(node(1));
  partition([1], [2], [3, 4, 5]);
  runUntil(600, () => {
    if (!isLeader(5) && cluster.now % 50 === 0) node(5).raw!.campaign();
    return isLeader(5) || isLeader(3) || isLeader(4);
  });
  if (!isLeader(5)) return notReached(); // S3 or S4 won instead
  partition([1], [2], [3, 4], [5]); // its appends (already in flight) are lost
  propose(5, 2);
  const yIdx = node(5).raw!.raft.raftLog.lastIndex();
  runUntil(100, () => node(5).durable.lastIndex() >= yIdx);
  cluster.crash(node(5));

  // (c) S1 restarts and is elected with S2, S3; it replicates X to S3. If X were committed by
  // counting replicas (X on S1, S2, S3) S1 would do so before S3 has any entry of S1's term.
  cluster.restart(node(1));
  partition([1, 2, 3], [4], [5]);
  runUntil(1000, () => {
    if (!isLeader(1) && cluster.now % 50 === 0) node(1).raw!.campaign();
    return isLeader(1);
  });
  if (!isLeader(1)) return notReached();
  // Stop S1 the moment it learns that S3 stored X (X is then on a majority: S1, S2, S3), which
  // is before S3 can have S1's current-term entry (one entry per append, one in flight).
  runUntil(300, () => (node(1).raw!.raft.trk.progress.get(3)?.match ?? 0) >= xIdx);
  // Committed by counting: X committed although S1's current-term entry is not on a majority.
  // (If the current-term entry already reached a majority, committing X is legitimate.)
  const r1 = node(1).raw!.raft;
  const xCommitted = r1.raftLog.committed >= xIdx && r1.trk.committed() <= xIdx;
  // S1 crashes at once; whatever it still had in flight is lost.
  partition([1], [2], [3], [4], [5]);
  cluster.crash(node(1));

  // (d) S5 restarts and tries to get elected by S2, S3, S4 (its last term beats X's term).
  cluster.restart(node(5));
  partition([1], [2, 3, 4, 5]);
  runUntil(1500, () => {
    if (node(5).raw && !isLeader(5) && cluster.now % 50 === 0) node(5).raw!.campaign();
    return isLeader(5);
  });
  return { reached: true, xCommitted, s5Elected: isLeader(5), trace: cluster.trace };
}
