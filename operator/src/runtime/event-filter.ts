// Which KvsCluster watch events deserve a reconcile pass. Pure.
//
// The operator writes status itself (and members[].appliedIndex moves with every write to the
// cluster), so treating a status-only update like any other event lets each status write drive the
// next pass — status churn. Status-only updates are ignored here by construction: the pass that wrote
// the status already acted on what it saw. A spec change (metadata.generation moved) is urgent: it
// skips a failure backoff, because the user may be fixing the cause.
import type { KubernetesObject } from '@kubernetes/client-node';

export type ClusterEventKind = 'ignore' | 'normal' | 'urgent';

/** The parts of a KvsCluster a pass reads, minus what changes on every write (status, versions). */
export function clusterFingerprint(o: KubernetesObject & { spec?: unknown }): string {
  const m = o.metadata ?? {};
  return JSON.stringify({
    generation: m.generation ?? null,
    labels: sorted(m.labels),
    annotations: sorted(m.annotations),
    deletionTimestamp: m.deletionTimestamp ?? null,
    finalizers: m.finalizers ?? null,
    ownerReferences: m.ownerReferences ?? null,
    spec: o.spec ?? null,
  });
}

function sorted(r: Record<string, string> | undefined): [string, string][] | null {
  return r ? Object.entries(r).sort(([a], [b]) => a.localeCompare(b)) : null;
}

/** Classifies an add/update of a KvsCluster given the fingerprint and generation seen before (if any). */
export function classifyClusterEvent(prev: { fingerprint: string; generation: number | undefined } | undefined, next: KubernetesObject): ClusterEventKind {
  if (!prev) return 'urgent';
  if (prev.generation !== next.metadata?.generation) return 'urgent';
  return prev.fingerprint === clusterFingerprint(next) ? 'ignore' : 'normal';
}
