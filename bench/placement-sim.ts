// Placement planner at scale, in simulation (issue 13, item 6): a seeded in-process shard map of
// `--stores` stores in `--zones` zones and `--ranges` ranges (RF `--rf`), the real planner applied
// pass after pass through the simulated Admin API (test/helpers/placement-cluster.ts), every step checked
// by the invariants (never below a majority, never remove before promote, never the leader's replica,
// moves in flight ≤ maxConcurrentMoves). Prints the time of one planning pass and the passes/steps to
// converge after adding `--add` stores and after losing a zone.
//   node dist/bench/placement-sim.js [--stores 1000 --ranges 100000 --zones 10 --rf 3 --moves 1000 --add 100 --seed 1 --json]
//   make placement-sim            (the same, full size)
import { parseArgs } from 'node:util';
import { planPlacement } from '../operator/src/placement/planner.js';
import type { PlacementSpec, PlacementStep } from '../operator/src/placement/types.js';
import { PlacementCluster, TICK_MS, ZONE_KEY, converged, runPass } from '../test/helpers/placement-cluster.js';

export interface SimArgs {
  stores: number;
  ranges: number;
  zones: number;
  rf: number;
  moves: number;
  add: number;
  seed: number;
  maxPasses: number;
  /** Ticks a lost store stays down before it counts as lost. */
  downTicks: number;
  log?: (line: string) => void;
}

export interface PhaseResult {
  name: string;
  passes: number;
  steps: Record<string, number>;
  totalSteps: number;
  refused: number;
  maxInFlight: number;
  passMsMedian: number;
  passMsMax: number;
  /** CPU time of one pass (user + system): what the pass costs on a machine shared with other work. */
  passCpuMsMedian: number;
  imbalanceAfter: { replicas: number; leaders: number; bytes: number };
  converged: boolean;
}

export interface SimResult {
  args: Omit<SimArgs, 'log'>;
  setupMs: number;
  steadyPassMs: { median: number; max: number; cpuMedian: number; runs: number };
  phases: PhaseResult[];
  /** Replicas that lived on the lost zone's stores when it went down (each must be re-created once). */
  replicasOnLostZone: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

function runUntilStable(c: PlacementCluster, spec: PlacementSpec, name: string, maxPasses: number, log: (line: string) => void): PhaseResult {
  const steps: Record<string, number> = {};
  const times: number[] = [];
  const cpu: number[] = [];
  let refused = 0;
  let maxInFlight = 0;
  let passes = 0;
  let last = undefined as ReturnType<typeof runPass> | undefined;
  while (passes < maxPasses) {
    // The planner alone is timed (applying and checking the steps is the simulator's cost).
    let planMs = 0;
    let cpuMs = 0;
    last = runPass(c, spec, (input) => {
      const c0 = process.cpuUsage();
      const p0 = performance.now();
      const p = planPlacement(input);
      planMs = performance.now() - p0;
      const cu = process.cpuUsage(c0);
      cpuMs = (cu.user + cu.system) / 1000;
      return p;
    }, { noMajorityLoss: true });
    times.push(planMs);
    cpu.push(cpuMs);
    passes++;
    refused += last.refused;
    maxInFlight = Math.max(maxInFlight, last.plan.summary.movesInFlight);
    for (const s of last.plan.steps) steps[key(s)] = (steps[key(s)] ?? 0) + 1;
    if (passes % 50 === 0) {
      const sm = last.plan.summary;
      log(`  ${name}: pass ${passes}, ${last.plan.steps.length} steps, ${sm.movesInFlight} moves in flight, under-replicated ${sm.underReplicated}, imbalance ${JSON.stringify(sm.imbalance)}`);
    }
    if (last.plan.steps.length === 0 && last.plan.summary.movesInFlight === 0 && last.plan.summary.underReplicated === 0) break;
  }
  const totalSteps = Object.values(steps).reduce((a, b) => a + b, 0);
  return {
    name,
    passes,
    steps,
    totalSteps,
    refused,
    maxInFlight,
    passMsMedian: Math.round(median(times)),
    passMsMax: Math.round(Math.max(0, ...times)),
    passCpuMsMedian: Math.round(median(cpu)),
    imbalanceAfter: last?.plan.summary.imbalance ?? { replicas: 0, leaders: 0, bytes: 0 },
    converged: converged(c, spec.replicationFactor) === undefined && last !== undefined && last.plan.steps.length === 0,
  };
}

const key = (s: PlacementStep) => (s.type === 'AddLearner' ? `AddLearner/${s.cause}` : s.type === 'TransferLeader' ? `TransferLeader/${s.cause}` : s.type);

export function runPlacementSim(a: SimArgs): SimResult {
  const log = a.log ?? (() => {});
  const spec: PlacementSpec = { replicationFactor: a.rf, topologyKey: ZONE_KEY, maxConcurrentMoves: a.moves, storeDownTimeoutMs: a.downTicks * TICK_MS };
  const t0 = performance.now();
  const c = new PlacementCluster({ seed: a.seed, stores: a.stores, zones: a.zones, ranges: a.ranges, rf: a.rf });
  const setupMs = Math.round(performance.now() - t0);
  log(`setup: ${a.stores} stores in ${a.zones} zones, ${a.ranges} ranges × RF ${a.rf} (${setupMs} ms)`);

  // One planning pass on the steady cluster (nothing applied): the number that must stay far below the
  // reconcile interval.
  const input = c.input(spec);
  const runs: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 7; i++) {
    const c0 = process.cpuUsage();
    const p0 = performance.now();
    planPlacement(input);
    runs.push(performance.now() - p0);
    const cu = process.cpuUsage(c0);
    cpu.push((cu.user + cu.system) / 1000);
  }
  const steadyPassMs = { median: Math.round(median(runs)), max: Math.round(Math.max(...runs)), cpuMedian: Math.round(median(cpu)), runs: runs.length };
  log(`one planning pass: median ${steadyPassMs.median} ms wall (${steadyPassMs.cpuMedian} ms CPU), max ${steadyPassMs.max} ms (${runs.length} runs)`);

  const phases: PhaseResult[] = [];
  const phase = (name: string) => {
    const r = runUntilStable(c, spec, name, a.maxPasses, log);
    phases.push(r);
    log(`${name}: ${r.passes} passes, ${r.totalSteps} steps ${JSON.stringify(r.steps)}, refused ${r.refused}, max moves in flight ${r.maxInFlight}, pass median ${r.passMsMedian} ms wall (${r.passCpuMsMedian} ms CPU) / max ${r.passMsMax} ms, imbalance after ${JSON.stringify(r.imbalanceAfter)}, converged ${r.converged}`);
  };
  phase('initial (seeded placement settles)');

  // Scale out: `add` new stores spread over the zones.
  for (let i = 0; i < a.add; i++) c.addStore(`z${i % a.zones}`);
  phase(`add ${a.add} stores`);

  // Lose a zone: every store of z0 goes down and stays down past storeDownTimeout.
  const zone = [...c.stores.values()].filter((s) => s.zone === 'z0').map((s) => s.storeId);
  const inZone = new Set(zone);
  let replicasOnLostZone = 0;
  for (const r of c.ranges) for (const rep of r.desc.replicas) if (inZone.has(rep.storeId)) replicasOnLostZone++;
  c.setStores(zone, { state: 'down' });
  phase(`lose zone z0 (${zone.length} stores)`);
  return { args: { stores: a.stores, ranges: a.ranges, zones: a.zones, rf: a.rf, moves: a.moves, add: a.add, seed: a.seed, maxPasses: a.maxPasses, downTicks: a.downTicks }, setupMs, steadyPassMs, phases, replicasOnLostZone };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stores: { type: 'string', default: '1000' },
      ranges: { type: 'string', default: '100000' },
      zones: { type: 'string', default: '10' },
      rf: { type: 'string', default: '3' },
      moves: { type: 'string', default: '1000' },
      add: { type: 'string', default: '100' },
      seed: { type: 'string', default: '1' },
      'max-passes': { type: 'string', default: '2000' },
      'down-ticks': { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
    },
  });
  const r = runPlacementSim({
    stores: Number(values.stores),
    ranges: Number(values.ranges),
    zones: Number(values.zones),
    rf: Number(values.rf),
    moves: Number(values.moves),
    add: Number(values.add),
    seed: Number(values.seed),
    maxPasses: Number(values['max-passes']),
    downTicks: Number(values['down-ticks']),
    log: (l) => console.log(l),
  });
  if (values.json) console.log(JSON.stringify(r));
  if (r.phases.some((p) => !p.converged)) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
