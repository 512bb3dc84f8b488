// The placement driver (issue 13): one pass = observe the shard map (placement-observe.ts) → plan
// (placement/planner.ts, pure) → execute the steps (placement-apply.ts). Split in two halves so the
// reconciler can put the pass's summary into status before the steps run: prepare() (observe + plan)
// and execute() (the Admin calls).
//
// The only memory between passes is the steps issued recently (per cluster): they keep a range from
// getting a second step before the first shows up in the stores' reports, and a failed step's range
// from being retried at once (a cool-down). It is an optimisation, not state: an operator that lost it
// (killed) re-derives every move from the shard map and the node-side calls are idempotent.
import type { Logger } from '../../../node/src/common/logger.js';
import { planPlacement } from '../placement/planner.js';
import type { InFlightStep, PlacementPlan, PlacementSpec } from '../placement/types.js';
import type { RangeAdmin } from './admin.js';
import { applyPlacementSteps, describePlacementStep, onlyNotYet, UNSUPPORTED_STEPS, type StepOutcome } from './placement-apply.js';
import { observeShardMap, type ObservedShardMap, type StoreEndpoint } from './placement-observe.js';

/** An issued step counts as in flight this long at most (its effect normally shows on the next pass). */
export const IN_FLIGHT_TTL_MS = 30_000;
/** A range whose step failed gets no step for this long. */
export const FAILED_COOL_DOWN_MS = 10_000;

export interface PreparedPass {
  key: string;
  nowMs: number;
  observed: ObservedShardMap;
  plan: PlacementPlan;
  /** Steps the Admin API can execute (the plan's minus UNSUPPORTED_STEPS). */
  executable: number;
}

export interface PassOutcome {
  outcomes: StepOutcome[];
  /** Steps that failed for a reason other than "not yet" or a stale epoch. */
  failed: StepOutcome[];
  /** Steps refused as planned against an older epoch: the next pass (soon) observes and re-plans. */
  stale: StepOutcome[];
}

export interface PlacementDriverOptions {
  logger?: Logger;
  /** Plan and report only, execute nothing (the integration test's negative control). */
  dryRun?: boolean;
}

export class PlacementDriver {
  private readonly inFlight = new Map<string, Array<InFlightStep & { untilMs: number }>>();

  constructor(private readonly opts: PlacementDriverOptions = {}) {}

  /** Observes the shard map and plans the next steps (no change to the cluster). `retired`: store ids gone for good. */
  async prepare(key: string, admin: RangeAdmin, spec: PlacementSpec, endpoints: readonly StoreEndpoint[], nowMs: number, retired: readonly number[] = []): Promise<PreparedPass> {
    const observed = await observeShardMap(admin, endpoints, nowMs, retired);
    const live = (this.inFlight.get(key) ?? []).filter((s) => s.untilMs > nowMs);
    this.inFlight.set(key, live);
    const plan = planPlacement({ spec, stores: observed.stores, ranges: observed.ranges, inFlight: live, nowMs });
    const executable = plan.steps.filter((s) => !UNSUPPORTED_STEPS.has(s.type)).length;
    this.opts.logger?.debug('placement plan', { cluster: key, ranges: plan.summary.ranges, steps: plan.steps.length, reason: plan.summary.reason });
    return { key, nowMs, observed, plan, executable };
  }

  /** Executes a prepared pass's steps (none in dry-run mode). */
  async execute(p: PreparedPass, admin: RangeAdmin): Promise<PassOutcome> {
    if (this.opts.dryRun || p.executable === 0) return { outcomes: [], failed: [], stale: [] };
    const byRange = new Map(p.observed.ranges.map((r) => [r.descriptor.rangeId, r]));
    const addressesOf = (rangeId: number): string[] => {
      const r = byRange.get(rangeId);
      if (r === undefined) return [];
      const voters = r.descriptor.replicas.filter((x) => x.role === 'voter').map((x) => x.storeId);
      const order = [...voters].sort((a, b) => Number(b === r.leaderStoreId) - Number(a === r.leaderStoreId) || a - b);
      return order.map((s) => p.observed.addresses.get(s)).filter((a): a is string => a !== undefined);
    };
    const outcomes = await applyPlacementSteps(admin, p.plan.steps, addressesOf, (s) => p.observed.addresses.get(s));
    const now = Date.now();
    const list = this.inFlight.get(p.key) ?? [];
    for (const o of outcomes) {
      list.push({ step: o.step, issuedAtMs: p.nowMs, untilMs: Math.max(now, p.nowMs) + (o.ok ? IN_FLIGHT_TTL_MS : onlyNotYet(o) ? 0 : FAILED_COOL_DOWN_MS) });
      const log = { cluster: p.key, step: o.step.type, range: o.step.rangeId, what: describePlacementStep(o.step) };
      if (o.ok) this.opts.logger?.info('placement step', { ...log, result: o.message });
      else this.opts.logger?.warn('placement step not done', { ...log, code: o.error?.code, err: o.message });
    }
    this.inFlight.set(
      p.key,
      list.filter((s) => s.untilMs > now),
    );
    return { outcomes, failed: outcomes.filter((o) => !o.ok && !onlyNotYet(o)), stale: outcomes.filter((o) => o.stale === true) };
  }

  /** Both halves (the integration test and tools call this; the reconciler splits them around status). */
  async pass(key: string, admin: RangeAdmin, spec: PlacementSpec, endpoints: readonly StoreEndpoint[], nowMs = Date.now()): Promise<PreparedPass & PassOutcome> {
    const p = await this.prepare(key, admin, spec, endpoints, nowMs);
    return { ...p, ...(await this.execute(p, admin)) };
  }

  /** Moves in flight the driver issued for `key` (the metric; the plan's own count is the observed one). */
  issued(key: string, nowMs = Date.now()): number {
    return (this.inFlight.get(key) ?? []).filter((s) => s.untilMs > nowMs).length;
  }

  forget(key: string): void {
    this.inFlight.delete(key);
  }
}
