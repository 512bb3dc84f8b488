// Stale peers: a store that comes back after its replicas were re-created elsewhere still holds peers
// that no descriptor lists. They are removed on that store only when that is certainly safe: the range
// has a known leader (a voter of the observed descriptor, up: the descriptor is the range's committed
// configuration as its leader serves it, not one a lone replica reports), the peer id is not in that
// descriptor (peer ids are never reused, so a re-added replica is a new peer and is kept) and the
// descriptor is newer than what the peer applied (its confVer is lower) — when the meta range lags
// behind the range (a replica change applied, the meta update not yet), the peer may be a learner just
// added, and it is left alone. The store checks the last two again before it destroys anything
// (Admin.DestroyStaleReplica).
import type { RangeView } from './range-view.js';
import type { ObservedStore, PlacementStep } from './types.js';

/** Marks, for target choice, every store that hosts a peer of a range outside its descriptor. */
export function recordForeignPeers(stores: readonly ObservedStore[], rv: RangeView, storeIndex: (id: number) => number): void {
  for (const s of stores) {
    if (!s.hostedPeers) continue;
    for (const p of s.hostedPeers) {
      const k = rv.byId.get(p.rangeId);
      if (k < 0) continue;
      if (!rv.ranges[k]!.descriptor.replicas.some((r) => r.peerId === p.peerId)) rv.addForeignPeer(k, storeIndex(s.storeId));
    }
  }
}

export function staleReplicaSteps(stores: readonly ObservedStore[], rv: RangeView, budget: number, skip: (storeId: number, peerId: number) => boolean): PlacementStep[] {
  const steps: PlacementStep[] = [];
  const sorted = stores.filter((s) => s.state === 'up' && (s.hostedPeers?.length ?? 0) > 0).sort((a, b) => a.storeId - b.storeId);
  for (const s of sorted) {
    const peers = [...s.hostedPeers!].sort((a, b) => a.rangeId - b.rangeId || a.peerId - b.peerId);
    for (const p of peers) {
      if (steps.length >= budget) return steps;
      const k = rv.byId.get(p.rangeId);
      if (k < 0) continue; // unknown range (meta not observed, or merged away): not provably stale
      if (rv.leader[k]! < 0) continue; // no leader known: the descriptor is not the range's word
      const d = rv.ranges[k]!.descriptor;
      if (d.replicas.some((r) => r.peerId === p.peerId)) continue;
      if (p.confVer >= d.epoch.confVer || skip(s.storeId, p.peerId)) continue;
      steps.push({ type: 'RemoveStalePeer', rangeId: p.rangeId, storeId: s.storeId, peerId: p.peerId, epoch: { ...d.epoch }, descriptorStores: d.replicas.map((r) => r.storeId), cause: 'stale-peer', why: `peer ${p.peerId} (confVer ${p.confVer}) is not in the descriptor of range ${p.rangeId} (confVer ${d.epoch.confVer})` });
    }
  }
  return steps;
}
