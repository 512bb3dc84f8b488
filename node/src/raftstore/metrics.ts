// Raft metrics of the node's groups in the node's Prometheus registry (/metrics): role, term, indexes,
// and the Ready-loop / transport counters (monotonic values exported as gauges read at scrape time).
import client from 'prom-client';
import type { RaftNode } from './raft-node.js';

export function registerRaftMetrics(registry: client.Registry, node: RaftNode): void {
  const peer = () => node.peer;
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
  g('kvs_raft_term', 'current Raft term', () => peer().status().term);
  g('kvs_raft_is_leader', '1 when this node is the leader of the group', () => (peer().isLeader ? 1 : 0));
  g('kvs_raft_leader_id', 'raft id of the leader this node knows (0 = none)', () => peer().leader);
  g('kvs_raft_commit_index', 'commit index', () => peer().status().commit);
  g('kvs_raft_applied_index', 'applied index', () => peer().appliedIndex);
  g('kvs_raft_first_index', 'first index of the (compacted) log', () => peer().status().firstIndex);
  g('kvs_raft_last_index', 'last index of the log', () => peer().status().lastIndex);
  g('kvs_raft_readies', 'Ready batches handled (monotonic)', () => peer().stats.readies);
  g('kvs_raft_synced_writes', 'synced engine writes of the Raft log (monotonic)', () => peer().stats.syncedWrites);
  g('kvs_raft_proposals', 'proposals made on this node (monotonic)', () => peer().stats.proposals);
  g('kvs_raft_applied_entries', 'entries applied (monotonic)', () => peer().stats.applied);
  g('kvs_raft_read_index_rounds', 'ReadIndex requests issued; reads share them (monotonic)', () => peer().stats.readIndexRounds);
  g('kvs_raft_reads', 'linearizable read barriers requested (monotonic)', () => peer().stats.reads);
  g('kvs_raft_snapshots_installed', 'snapshots installed (monotonic)', () => peer().stats.snapshotsInstalled);
  g('kvs_raft_snapshots_generated', 'snapshots generated for followers (monotonic)', () => peer().stats.snapshotsGenerated);
  const t = (name: string, help: string, value: () => number) => g(name, help, value);
  t('kvs_raft_transport_frames_sent', 'transport frames sent (monotonic)', () => node.transport.stats.framesSent);
  t('kvs_raft_transport_messages_sent', 'raft messages sent (monotonic)', () => node.transport.stats.messagesSent);
  t('kvs_raft_transport_messages_dropped', 'raft messages dropped: peer unreachable (monotonic)', () => node.transport.stats.dropped);
  t('kvs_raft_transport_messages_received', 'raft messages received (monotonic)', () => node.transport.stats.messagesReceived);
}
