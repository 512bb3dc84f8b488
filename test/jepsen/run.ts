// Jepsen-style nemesis runs against multi-process kvs clusters (docs/jepsen.md).
//
//   node <outDir>/test/jepsen/run.js --runs 100 [--jobs 2] [--first-seed 1] [--window 10000]
//   node <outDir>/test/jepsen/run.js --seed 42 [--nodes 5] [--first-fault kill] [--window 10000]   (replay)
//   node <outDir>/test/jepsen/run.js --bounded     (what `make test` runs: every fault kind, 3 and 5 nodes)
//
// Prints one line per run, the failing runs' replay commands and artifacts, then
// `jepsen: N runs passed, M failed`; exits non-zero when a run failed.
import { join } from 'node:path';
import { porcupineBinary } from '../helpers/history-porcupine.js';
import { ALL_FAULTS, makePlan, type FaultKind, type PlanOptions, type RunPlan } from './schedule.js';
import { runOne, type RunResult } from './run-one.js';

interface Job {
  plan: RunPlan;
  replay: string;
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
  const extra = [o.nodes ? `--nodes ${o.nodes}` : '', o.firstFault ? `--first-fault ${o.firstFault}` : '', o.faultWindowMs ? `--window ${o.faultWindowMs}` : ''].filter(Boolean).join(' ');
  return `make jepsen SEED=${seed}${extra ? ` JEPSEN_ARGS='${extra}'` : ''}`;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const window = a.window ? Number(a.window) : undefined;
  const nodes = a.nodes ? (Number(a.nodes) as 3 | 5) : undefined;
  const firstFault = a['first-fault'] as FaultKind | undefined;
  if (firstFault && !ALL_FAULTS.includes(firstFault)) throw new Error(`--first-fault: one of ${ALL_FAULTS.join(', ')}`);
  const jobs: Job[] = [];
  if (a.bounded) {
    // Every fault kind leads one run; sizes alternate 3/5; the rest of each schedule is random.
    ALL_FAULTS.forEach((kind, i) => {
      const o: PlanOptions = { nodes: i % 2 === 0 ? 3 : 5, firstFault: kind, faultWindowMs: window ?? 7000 };
      const seed = 9001 + i;
      jobs.push({ plan: makePlan(seed, o), replay: replayCmd(seed, o) });
    });
  } else if (a.seed !== undefined) {
    const o: PlanOptions = { nodes, firstFault, faultWindowMs: window };
    jobs.push({ plan: makePlan(Number(a.seed), o), replay: replayCmd(Number(a.seed), o) });
  } else {
    const runs = Number(a.runs ?? 8);
    const first = Number(a['first-seed'] ?? 1);
    for (let s = first; s < first + runs; s++) {
      const o: PlanOptions = { nodes, faultWindowMs: window };
      jobs.push({ plan: makePlan(s, o), replay: replayCmd(s, o) });
    }
  }
  const parallel = Math.max(1, Number(a.jobs ?? 1));
  const outRoot = a.out ?? join(process.cwd(), 'test', 'out', 'jepsen');
  porcupineBinary(); // build/cached once, before any cluster starts

  const results: RunResult[] = [];
  let next = 0;
  const t0 = Date.now();
  const worker = async (slot: number): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const r = await runOne(job.plan, { slot, outRoot, replay: job.replay, keepAlways: a.keep === 'true' });
      results.push(r);
      const faults = Object.entries(r.faults).map(([k, v]) => `${k}×${v}`).join(' ');
      console.log(
        `${r.ok ? 'PASS' : 'FAIL'} seed ${r.seed} (${job.plan.nodes} nodes, ${(r.durationMs / 1000).toFixed(1)} s): ${r.ops} ops ${JSON.stringify(r.counts)}; faults ${faults || 'none'}; recovery ${r.recoveryMs ?? '-'} ms; ${r.verdict}`,
      );
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
