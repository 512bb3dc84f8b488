// Jepsen-style nemesis runs against multi-process kvs clusters (docs/jepsen.md).
//
//   node <outDir>/test/jepsen/run.js --runs 100 [--jobs 2] [--first-seed 1] [--window 10000] [--workload bank]
//   node <outDir>/test/jepsen/run.js --seed 42 [--nodes 5] [--first-fault kill] [--faults split,move-range] [--window 10000] [--workload counter]   (replay)
//   [--slot N]: loopback 127.(60+N).x.y instead of 127.60 (another suite on the same machine)
//   node <outDir>/test/jepsen/run.js --seed 7 --recipe                      (issue 10's counter recipe)
//   node <outDir>/test/jepsen/run.js --seed 7 --control no-commit-fence     (a negative control: must fail)
//   node <outDir>/test/jepsen/run.js --bounded     (what `make test` runs: every workload and fault kind
//                                                   leads a run, 3 and 5 nodes, the recipe, the negative controls)
//
// Prints one line per run, the failing runs' replay commands and artifacts, then
// `jepsen: N runs passed, M failed`; exits non-zero when a run failed. A negative control passes when
// its checker reported the expected violation, and fails (artifacts kept) when it did not.
import { join } from 'node:path';
import { storeSecondaryHoldMs } from '../../node/src/raftstore/secondary-commits.js';
import { porcupineBinary } from '../helpers/history-porcupine.js';
import { ALL_FAULTS, CONTROLS, makePlan, type ControlKind, type FaultKind, type PlanOptions, type RunPlan } from './schedule.js';
import { runOne, type RunResult } from './run-one.js';
import { ALL_WORKLOADS, type WorkloadKind } from './workload.js';

interface Job {
  plan: RunPlan;
  replay: string;
  /** Plan options, to derive the next seed of a negative control. */
  opts: PlanOptions;
  /** Negative controls: seeds still to try when a run saw no violation (the bugs they re-enable are races). */
  triesLeft?: number;
}

/** A job for `seed`; a negative control gets three seeds before it counts as "proved nothing". */
function makeJob(seed: number, o: PlanOptions): Job {
  return { plan: makePlan(seed, o), replay: replayCmd(seed, o), opts: o, ...(o.control ? { triesLeft: 3 } : {}) };
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const k = a.slice(2);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) out[k] = 'true';
    else {
      out[k] = v;
      i++;
    }
  }
  return out;
}

function replayCmd(seed: number, o: PlanOptions): string {
  const extra = [
    o.nodes ? `--nodes ${o.nodes}` : '',
    o.firstFault ? `--first-fault ${o.firstFault}` : '',
    o.faults ? `--faults ${o.faults.join(',')}` : '',
    o.faultWindowMs ? `--window ${o.faultWindowMs}` : '',
    o.workload ? `--workload ${o.workload}` : '',
    o.recipe ? '--recipe' : '',
    o.control ? `--control ${o.control}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `make jepsen SEED=${seed}${extra ? ` JEPSEN_ARGS='${extra}'` : ''}`;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const window = a.window ? Number(a.window) : undefined;
  const nodes = a.nodes ? (Number(a.nodes) as 3 | 5) : undefined;
  const firstFault = a['first-fault'] as FaultKind | undefined;
  if (firstFault && ![...ALL_FAULTS, 'wipe-lagging'].includes(firstFault)) throw new Error(`--first-fault: one of ${ALL_FAULTS.join(', ')}, wipe-lagging`);
  const faults = a.faults ? (a.faults.split(',') as FaultKind[]) : undefined;
  for (const f of faults ?? []) if (!ALL_FAULTS.includes(f)) throw new Error(`--faults: a comma-separated list of ${ALL_FAULTS.join(', ')}`);
  const workload = a.workload as WorkloadKind | undefined;
  if (workload && !ALL_WORKLOADS.includes(workload)) throw new Error(`--workload: one of ${ALL_WORKLOADS.join(', ')}`);
  const control = a.control as ControlKind | undefined;
  if (control && !(control in CONTROLS)) throw new Error(`--control: one of ${Object.keys(CONTROLS).join(', ')}`);
  const recipe = a.recipe === 'true' ? true : undefined;
  const jobs: Job[] = [];
  if (a.bounded) {
    // Every fault kind leads one run (the new ones first), the workloads taking turns (so each leads at
    // least one run); sizes alternate 3/5; the rest of each schedule is random. Then issue 10's counter
    // recipe, and each negative control, which must fail.
    const order: FaultKind[] = ['wipe', 'clock', ...ALL_FAULTS.filter((f) => f !== 'wipe' && f !== 'clock')];
    const turns: WorkloadKind[] = ['counter', 'bank', 'write-skew', 'register'];
    order.forEach((kind, i) => {
      const o: PlanOptions = { nodes: i % 2 === 0 ? 3 : 5, firstFault: kind, faultWindowMs: window ?? 7000, workload: turns[i % turns.length] };
      jobs.push(makeJob(9001 + i, o));
    });
    // move-range on 3 nodes too (the run above is on 5), among the faults that change placement and
    // membership, so a store that joins meets ranges whose replicas were destroyed and re-created.
    jobs.push(makeJob(9051, { nodes: 3, firstFault: 'move-range', faults: ['move-range', 'split', 'membership', 'kill'], faultWindowMs: window ?? 7000, workload: 'bank' }));
    const extras: PlanOptions[] = [{ nodes: 3, recipe: true }, ...(Object.keys(CONTROLS) as ControlKind[]).map((c): PlanOptions => ({ nodes: 3, control: c, faultWindowMs: window ?? 7000 }))];
    extras.forEach((o, i) => jobs.push(makeJob(9101 + 10 * i, o)));
  } else if (a.seed !== undefined) {
    const o: PlanOptions = { nodes, firstFault, faults, faultWindowMs: window, workload, control, recipe };
    jobs.push(makeJob(Number(a.seed), o));
  } else {
    const runs = Number(a.runs ?? 8);
    const first = Number(a['first-seed'] ?? 1);
    for (let s = first; s < first + runs; s++) {
      const o: PlanOptions = { nodes, faults, faultWindowMs: window, workload, control, recipe };
      jobs.push(makeJob(s, o));
    }
  }
  const parallel = Math.max(1, Number(a.jobs ?? 1));
  // Runs use loopback 127.(60 + slot).x.y; --slot moves them away from another suite on the same machine.
  const slot0 = Number(a.slot ?? 0);
  const outRoot = a.out ?? join(process.cwd(), 'test', 'out', 'jepsen');
  porcupineBinary(); // build/cached once, before any cluster starts

  const results: RunResult[] = [];
  let next = 0;
  const t0 = Date.now();
  const worker = async (slot: number): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const r = await runOne(job.plan, { slot: slot0 + slot, outRoot, replay: job.replay, keepAlways: a.keep === 'true' });
      if (job.plan.control && !r.ok && !r.failedChecks && (job.triesLeft ?? 1) > 1) {
        // A quiet run of a negative control (no problem at all): the race it re-enables did not happen.
        console.log(`note seed ${r.seed} (negative control ${job.plan.control}): no violation this time (${r.verdict}); trying seed ${r.seed + 1}`);
        jobs.splice(next, 0, { ...makeJob(r.seed + 1, job.opts), triesLeft: job.triesLeft! - 1 });
        continue;
      }
      results.push(r);
      const faults = Object.entries(r.faults).map(([k, v]) => `${k}×${v}`).join(' ');
      const what = `${job.plan.workload}${job.plan.pinFollowers ? ' recipe' : ''}${job.plan.parallelCommit ? ', parallel commits' : ''}${job.plan.asyncAppend ? ', async append' : ''}${job.plan.directTxnReads ? ', direct txn reads' : ''}${storeSecondaryHoldMs(job.plan.parallelCommit, job.plan.secondaryHoldMs) > 0 ? `, secondary hold ${job.plan.secondaryHoldMs} ms` : ''}${job.plan.control ? `, negative control ${job.plan.control}` : ''}`;
      console.log(
        `${r.ok ? 'PASS' : 'FAIL'} seed ${r.seed} (${what}, ${job.plan.nodes} nodes, ${(r.durationMs / 1000).toFixed(1)} s): ${r.ops} ops ${JSON.stringify(r.counts)}; faults ${faults || 'none'}; recovery ${r.recoveryMs ?? '-'} ms; ${r.verdict}`,
      );
      if (job.plan.control && r.ok) {
        const expected = r.problems.filter((p) => CONTROLS[job.plan.control!].expect.test(p));
        console.log(`     negative control failed as it must: ${expected.length} expected problem(s) of ${r.problems.length}, e.g. ${expected[0]}`);
      }
      if (job.plan.control && !r.ok) console.log(`     negative control ${job.plan.control} did NOT report the expected violation (${CONTROLS[job.plan.control].expect}): the checker proved nothing`);
      if (!r.ok) {
        for (const p of r.problems) console.log(`     problem: ${p}`);
        console.log(`     events:\n${r.events.map((e) => `       ${e}`).join('\n')}`);
        console.log(`     artifacts: ${r.outDir}  (history.json, schedule.json, events.txt, node logs)`);
        console.log(`     replay: ${job.replay}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, (_, i) => worker(i)));
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  const totals: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.faults)) totals[k] = (totals[k] ?? 0) + v;
  const rec = results.map((r) => r.recoveryMs).filter((x): x is number => x !== undefined).sort((x, y) => x - y);
  console.log(`faults injected: ${Object.entries(totals).map(([k, v]) => `${k}×${v}`).join(', ')}`);
  if (rec.length) console.log(`recovery after healing: median ${rec[Math.floor(rec.length / 2)]} ms, max ${rec[rec.length - 1]} ms`);
  console.log(`ops checked: ${results.reduce((s, r) => s + r.ops, 0)}; wall time ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  for (const r of results.filter((x) => !x.ok)) console.log(`failed: seed ${r.seed} → ${r.outDir}`);
  if (a['mocha-summary']) {
    // Lets scripts/run-tests.sh count runs like mocha tests.
    console.log(`  ${passed} passing`);
    if (failed) console.log(`  ${failed} failing`);
  }
  console.log(`jepsen: ${passed} runs passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
