// One reconcile pass for one KvsCluster key: observe (caches) → plan (pure) → apply (server-side apply,
// fieldManager kvs-operator, force) → status (once, status subresource, stamped with observedGeneration)
// → events. Returns when to look again; throws typed errors (errors.ts decides the requeue).
// A child that cannot be applied does not stop the others (except what depends on it): the failures
// are reported in the ApplyFailed condition and ApplyFailed events, then the first one is thrown.
import type { Logger } from '../../../node/src/common/logger.js';
import type { Condition, KvsCluster, KvsClusterStatus } from '../api/types.js';
import { MembershipStepError, toOperatorError, type OperatorError } from '../errors.js';
import type { V1Pod } from '@kubernetes/client-node';
import type { ClusterCache } from '../runtime/informers.js';
import type { Writer } from '../runtime/kube.js';
import { isRangeAdmin, toNodeAdminError, type NodeAdmin } from '../runtime/admin.js';
import type { NodeLabels } from '../runtime/node-labels.js';
import type { PlacementDriver, PreparedPass, PassOutcome } from '../runtime/placement-driver.js';
import { balancedCondition, placementSpecOf, podNodeNames, shardMapStatus, storeEndpoints } from './placement.js';
import type { MembershipStep } from './membership.js';
import { adminAddress, names, pvcName } from './names.js';
import { MEMBERSHIP_REQUEUE_MS, describeStep, plan, raftView, type Plan, type PlanOptions, type PlannedEvent } from './plan.js';
import { withApplyFailures, type ApplyFailure, type NodeReport } from './status.js';

/** Reads the operator's own ConfigMaps (the members table is read fresh every pass, not cached). */
export interface Reader {
  getConfigMapData(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export interface ReconcileDeps {
  cache: ClusterCache;
  writer: Writer;
  logger: Logger;
  now?: () => Date;
  onApply?: (kind: string) => void;
  /** Node admin API; without it no node is observed and no membership step is taken. */
  admin?: NodeAdmin;
  /**
   * The admin API for one cluster, given its pods (mutual TLS to the pods that run TLS, plaintext to the
   * others during a TLS change); overrides `admin` when given.
   */
  adminFor?: (c: KvsCluster, pods: V1Pod[]) => NodeAdmin | undefined;
  /** The operator's settings the planner needs (the Admin port's NetworkPolicy). */
  planOptions?: PlanOptions;
  reader?: Reader;
  onMembershipStep?: (type: string, result: 'ok' | 'error') => void;
  /** Moves range replicas and leaderships (issue 13); without it (or without per-range admin calls) the
   * shard map is not touched. */
  placement?: PlacementDriver;
  /** Called after each placement pass (the operator's gauges). */
  onPlacement?: (key: string, pass: PreparedPass & PassOutcome) => void;
  /** Labels of the Kubernetes nodes the pods run on, read when spec.placement.topologyKey is set (the
   * topology value of each store); without it only the pods' own labels count. */
  nodeLabels?: NodeLabels;
}

/** Requeue while the placement driver has work (moves in flight, steps planned); right after steps ran. */
export const PLACEMENT_REQUEUE_MS = 2_000;
export const PLACEMENT_STEPPED_REQUEUE_MS = 500;
/** Requeue of a balanced cluster with a placement driver: new ranges (splits) and lost stores are noticed. */
export const PLACEMENT_RESYNC_MS = 30_000;

/** Admin Status of every pod that has an IP (in parallel; a pod that does not answer is left out). */
export async function observeNodes(admin: NodeAdmin, pods: V1Pod[]): Promise<Record<string, NodeReport>> {
  const out: Record<string, NodeReport> = {};
  await Promise.all(
    pods
      .filter((p) => p.status?.podIP && !p.metadata?.deletionTimestamp)
      .map(async (p) => {
        try {
          out[p.metadata!.name!] = await admin.status(adminAddress(p)!);
        } catch {
          /* not answering: unhealthy */
        }
      }),
  );
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

const STEP_EVENT: Record<MembershipStep['type'], string> = {
  AddLearner: 'MemberAdded',
  Promote: 'MemberPromoted',
  RemoveMember: 'MemberRemoved',
  TransferLeader: 'LeaderTransferred',
  DeletePod: 'PodRestarted',
  ReplacePod: 'MemberReplacing',
  DrainStore: 'StoreDrained',
};

/** The event recorded when a drain starts (it may take a while: replica moves wait for snapshots). */
export function drainingEvent(step: Extract<MembershipStep, { type: 'DrainStore' }>): PlannedEvent {
  return { type: 'Normal', reason: 'StoreDraining', action: step.type, note: describeStep(step) };
}

/**
 * Executes one membership step (idempotent on the node side). Returns the event to record.
 * `storeAddresses`: the admin address of every answering node (a drain reads each store's ranges).
 */
export async function executeStep(step: MembershipStep, leaderAddress: string | undefined, namespace: string, deps: Pick<ReconcileDeps, 'admin' | 'writer' | 'placement'>, storeAddresses: string[] = []): Promise<PlannedEvent> {
  const admin = deps.admin!;
  // With a placement driver a new store joins the membership range alone and placement gives it its
  // share of replicas; added to every range, a scale-out would copy the whole data set to each new store
  // (and placement would then trim it back to the replication factor).
  const membershipOnly = deps.placement !== undefined && isRangeAdmin(admin);
  let detail: string;
  if (step.type === 'DrainStore') {
    // Not through the leader: the drain finds each range's leader itself.
    detail = await admin.drainStore(storeAddresses, step.raftId, { leadershipsOnly: step.leadershipsOnly, ...(step.avoid ? { avoid: step.avoid } : {}) });
  } else if (step.type === 'DeletePod') {
    await deps.writer.deletePod(namespace, step.pod);
    detail = 'pod deleted';
  } else if (step.type === 'ReplacePod') {
    // Claim first: it stays (pvc-protection) until the pod is gone, then the StatefulSet recreates both,
    // and the node starts on an empty volume with its new raft id (--join).
    await deps.writer.deletePvc(namespace, pvcName(step.pod));
    await deps.writer.deletePod(namespace, step.pod);
    detail = `claim ${pvcName(step.pod)} and pod deleted`;
  } else {
    if (!leaderAddress) throw new Error('no leader address');
    switch (step.type) {
      case 'AddLearner':
        detail = await admin.addLearner(leaderAddress, step.raftId, step.address, membershipOnly);
        // A snapshot generated before the learner was added does not list it in its configuration and
        // the learner rejects it ("not in the ConfState"); make the leader cut a fresh one right away.
        detail += await admin.snapshot(leaderAddress).then(
          (m) => `; ${m}`,
          () => '',
        );
        break;
      case 'Promote':
        detail = await admin.promote(leaderAddress, step.raftId, undefined, membershipOnly);
        break;
      case 'RemoveMember':
        detail = await admin.removeMember(leaderAddress, step.raftId);
        break;
      case 'TransferLeader':
        detail = await admin.transferLeader(leaderAddress, step.toRaftId);
        break;
    }
  }
  return { type: 'Normal', reason: STEP_EVENT[step.type], action: step.type, note: `${describeStep(step)}: ${detail}` };
}

export interface ReconcileResult {
  /** Look again after this long even without a watch event. */
  requeueAfterMs?: number;
  plan?: Plan;
  statusWritten: boolean;
  /** The pass completed but its membership step failed: the work queue backs off (errors.ts). */
  stepError?: OperatorError;
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
  const nowIso = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const pods = deps.cache.listPods(namespace, name);
  const admin = deps.adminFor ? deps.adminFor(cluster, pods) : deps.admin;
  const nodes = admin ? await observeNodes(admin, pods) : undefined;
  const membersConfig = deps.reader ? await deps.reader.getConfigMapData(namespace, names.membersConfigMap(cluster)) : undefined;
  const p = plan(cluster, {
    statefulSet: deps.cache.getStatefulSet(namespace, names.statefulSet(cluster)),
    pods,
    pvcs: deps.cache.listPvcs(namespace, name),
    ...(nodes ? { nodes } : {}),
    ...(membersConfig ? { membersConfig } : {}),
    now: nowIso,
  }, deps.planOptions);

  // Every child is applied even when another fails (a rejected PDB must not keep the StatefulSet
  // from being updated) — except the StatefulSet when the members ConfigMap failed: a pod's raft id
  // must exist before the pod does (raftids.ts).
  const failures: ApplyFailure[] = [];
  const errors: OperatorError[] = [];
  const membersName = names.membersConfigMap(cluster);
  let membersFailed = false;
  for (const obj of p.apply) {
    const kind = obj.kind ?? '';
    const objName = obj.metadata?.name ?? '';
    if (kind === 'StatefulSet' && membersFailed) {
      failures.push({ kind, name: objName, reason: 'Skipped', message: `not applied because ConfigMap ${membersName} (raft ids) could not be applied` });
      continue;
    }
    try {
      await deps.writer.apply(obj);
      deps.onApply?.(kind);
    } catch (e) {
      const err = toOperatorError(e);
      errors.push(err);
      failures.push({ kind, name: objName, reason: err.code, message: err.message });
      if (kind === 'ConfigMap' && objName === membersName) membersFailed = true;
      log.warn('apply failed', { kind, name: objName, code: err.code, err: err.message });
    }
  }
  let finalStatus = withApplyFailures(p.status, cluster.status?.conditions, failures, cluster.metadata.generation ?? 0, nowIso, p.apply.length > 0);

  // Placement (issue 13): only once every object is applied and membership is settled (no membership
  // step planned or waited for); its steps run before the status is written so a failure is in it.
  let placementEvents: PlannedEvent[] = [];
  let placementBusy = false;
  let placementStepped = false;
  if (deps.placement && admin && isRangeAdmin(admin) && !cluster.spec.paused) {
    const gen = cluster.metadata.generation ?? 0;
    const prevConds = cluster.status?.conditions;
    let shardMap = cluster.status?.shardMap;
    let balanced: Condition;
    const view = raftView(nodes);
    if (errors.length === 0 && p.settled && view !== undefined) {
      // Zones are node labels: read those of the pods' nodes when the spec spreads across a topology key.
      const nodeLabels = cluster.spec.placement?.topologyKey && deps.nodeLabels ? await deps.nodeLabels(podNodeNames(pods)).catch(() => undefined) : undefined;
      const endpoints = storeEndpoints(p.members, view, pods, cluster.spec.replicas, nodeLabels);
      const pspec = placementSpecOf(cluster.spec, endpoints.filter((e) => !e.draining).length);
      try {
        const prepared = await deps.placement.prepare(key, admin, pspec, endpoints, now.getTime(), p.members.retired);
        if (prepared.observed.addresses.size === 0) {
          balanced = balancedCondition(prevConds, {}, gen, nowIso);
        } else {
          const out = await deps.placement.execute(prepared, admin);
          deps.onPlacement?.(key, { ...prepared, ...out });
          shardMap = shardMapStatus(prepared.plan.summary, pspec.replicationFactor, prepared.observed.pods);
          balanced = balancedCondition(prevConds, { summary: prepared.plan.summary, failed: out.failed.map((o) => o.event.note) }, gen, nowIso);
          placementEvents = out.outcomes.map((o) => o.event);
          placementBusy = !prepared.plan.summary.balanced || out.outcomes.length > 0;
          // A stale plan (EpochNotMatch) is looked at again as soon as a step that went through.
          placementStepped = out.outcomes.some((o) => o.ok) || out.stale.length > 0;
        }
      } catch (e) {
        // The planner refused the spec (PlacementSpecError) or observation broke: say so, change nothing.
        const msg = e instanceof Error ? e.message : String(e);
        log.warn('placement pass failed', { err: msg });
        balanced = balancedCondition(prevConds, { failed: [msg] }, gen, nowIso);
      }
    } else {
      balanced = balancedCondition(prevConds, { waiting: errors.length > 0 ? 'child objects could not be applied' : 'membership is changing: replica placement waits until it is settled' }, gen, nowIso);
    }
    finalStatus = { ...finalStatus, ...(shardMap ? { shardMap } : {}), conditions: [...(finalStatus.conditions ?? []).filter((c) => c.type !== 'Balanced'), balanced] };
  }

  let statusWritten = false;
  if (!statusEqual(cluster.status, finalStatus)) {
    await deps.writer.applyStatus(cluster, finalStatus);
    statusWritten = true;
    log.info('status written', { phase: finalStatus.phase, ready: finalStatus.readyReplicas, replicas: finalStatus.replicas, generation: finalStatus.observedGeneration });
  }

  if (errors.length > 0) {
    for (const f of failures) {
      await deps.writer
        .event(cluster, { type: 'Warning', reason: 'ApplyFailed', action: 'Apply', note: `${f.kind} ${f.name}: ${f.message}` })
        .catch((e: unknown) => log.warn('event failed', { err: String(e) }));
    }
    // No membership step on a pass whose objects are not all in place; errors.ts decides the retry.
    throw errors[0]!;
  }

  for (const ev of [...p.events, ...placementEvents]) {
    try {
      await deps.writer.event(cluster, ev);
    } catch (e) {
      // Events are best effort: never fail a pass for them.
      log.warn('event failed', { reason: ev.reason, err: toOperatorError(e).message });
    }
  }
  if (p.events.length) log.info('events', { events: p.events.map((e) => e.reason) });

  const result: ReconcileResult = { plan: { ...p, status: finalStatus }, statusWritten };
  if (p.next.action === 'Requeue') result.requeueAfterMs = p.next.afterMs;
  if (deps.placement && admin && isRangeAdmin(admin)) {
    const again = placementStepped ? PLACEMENT_STEPPED_REQUEUE_MS : placementBusy ? PLACEMENT_REQUEUE_MS : PLACEMENT_RESYNC_MS;
    result.requeueAfterMs = Math.min(result.requeueAfterMs ?? again, again);
  }
  if (p.next.action === 'Membership' && admin) {
    // One step per pass, after the objects (the members table) and the status were written.
    const step = p.next.step;
    const leaderPod = p.status.leader;
    const leaderPodObj = pods.find((x) => x.metadata?.name === leaderPod);
    const leaderAddress = leaderPodObj ? adminAddress(leaderPodObj) : undefined;
    const storeAddresses = pods.filter((x) => nodes?.[x.metadata?.name ?? ''] !== undefined && x.status?.podIP).map((x) => adminAddress(x)!);
    try {
      if (step.type === 'DrainStore') await deps.writer.event(cluster, drainingEvent(step)).catch((e: unknown) => log.warn('event failed', { err: String(e) }));
      const ev = await executeStep(step, leaderAddress, namespace, { ...deps, admin }, storeAddresses);
      deps.onMembershipStep?.(step.type, 'ok');
      log.info('membership step', { step: step.type, note: ev.note });
      await deps.writer.event(cluster, ev).catch((e: unknown) => log.warn('event failed', { err: String(e) }));
      result.requeueAfterMs = 500;
    } catch (e) {
      const err = step.type === 'DeletePod' || step.type === 'ReplacePod' ? toOperatorError(e) : toNodeAdminError(e, step.type);
      deps.onMembershipStep?.(step.type, 'error');
      log.warn('membership step failed', { step: step.type, err: err.message });
      await deps.writer
        .event(cluster, { type: 'Warning', reason: 'MembershipStepFailed', action: step.type, note: `${describeStep(step)}: ${err.message}` })
        .catch((x: unknown) => log.warn('event failed', { err: String(x) }));
      result.requeueAfterMs = MEMBERSHIP_REQUEUE_MS;
      result.stepError = new MembershipStepError(`${step.type}: ${err.message}`, { cause: err });
    }
  }
  return result;
}
