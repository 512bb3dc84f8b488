// One reconcile pass for one KvsCluster key: observe (caches) → plan (pure) → apply (server-side apply,
// fieldManager kvs-operator, force) → status (once, status subresource, stamped with observedGeneration)
// → events. Returns when to look again; throws typed errors (errors.ts decides the requeue).
import type { Logger } from '../../../node/src/common/logger.js';
import type { KvsClusterStatus } from '../api/types.js';
import { toOperatorError } from '../errors.js';
import type { ClusterCache } from '../runtime/informers.js';
import type { Writer } from '../runtime/kube.js';
import { names } from './names.js';
import { plan, type Plan } from './plan.js';

export interface ReconcileDeps {
  cache: ClusterCache;
  writer: Writer;
  logger: Logger;
  now?: () => Date;
  onApply?: (kind: string) => void;
}

export interface ReconcileResult {
  /** Look again after this long even without a watch event. */
  requeueAfterMs?: number;
  plan?: Plan;
  statusWritten: boolean;
}

/** JSON with sorted keys: status comparison independent of key order. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : x,
  );
}

export function statusEqual(a: KvsClusterStatus | undefined, b: KvsClusterStatus | undefined): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

export async function reconcile(key: string, deps: ReconcileDeps): Promise<ReconcileResult> {
  const [namespace, name] = key.split('/') as [string, string];
  const log = deps.logger.child({ cluster: key });
  const cluster = deps.cache.getCluster(namespace, name);
  if (!cluster) {
    log.debug('cluster gone; children are garbage-collected through owner references');
    return { statusWritten: false };
  }
  if (cluster.metadata.deletionTimestamp) return { statusWritten: false };

  const now = (deps.now ?? (() => new Date()))();
  const p = plan(cluster, {
    statefulSet: deps.cache.getStatefulSet(namespace, names.statefulSet(cluster)),
    pods: deps.cache.listPods(namespace, name),
    pvcs: deps.cache.listPvcs(namespace, name),
    now: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });

  let applyError: unknown;
  for (const obj of p.apply) {
    try {
      await deps.writer.apply(obj);
      deps.onApply?.(obj.kind ?? '');
    } catch (e) {
      applyError = e;
      log.warn('apply failed', { kind: obj.kind, name: obj.metadata?.name, err: toOperatorError(e).message });
      break;
    }
  }

  let statusWritten = false;
  if (!statusEqual(cluster.status, p.status)) {
    await deps.writer.applyStatus(cluster, p.status);
    statusWritten = true;
    log.info('status written', { phase: p.status.phase, ready: p.status.readyReplicas, replicas: p.status.replicas, generation: p.status.observedGeneration });
  }

  if (applyError) {
    const err = toOperatorError(applyError);
    await deps.writer
      .event(cluster, { type: 'Warning', reason: 'ApplyFailed', action: 'Apply', note: err.message })
      .catch((e: unknown) => log.warn('event failed', { err: String(e) }));
    throw err;
  }

  for (const ev of p.events) {
    try {
      await deps.writer.event(cluster, ev);
    } catch (e) {
      // Events are best effort: never fail a pass for them.
      log.warn('event failed', { reason: ev.reason, err: toOperatorError(e).message });
    }
  }
  if (p.events.length) log.info('events', { events: p.events.map((e) => e.reason) });

  const result: ReconcileResult = { plan: p, statusWritten };
  if (p.next.action === 'Requeue') result.requeueAfterMs = p.next.afterMs;
  return result;
}
