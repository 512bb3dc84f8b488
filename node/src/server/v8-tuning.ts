// V8 tiering of a store process, set before any other module of the store runs (main.ts imports this
// module first; V8 reads the budget when a function's feedback is allocated, at its first calls).
//
// A request crosses hundreds of functions, each run once or a few times per request. V8 moves a function
// up a tier each time it has executed its interrupt budget of bytecode (default 132 KiB; the optimising
// tier needs several such ticks), so at a few hundred requests per second — one put or transaction in
// flight — the commit path stayed in the interpreter and baseline tiers for 15–30 s after every start
// (a rolling upgrade's restart, a new leader's first requests). With a 1 KiB budget it is optimised within
// the first second or two; the steady state is the same (docs/benchmarks.md, 2026-12-06 17:00).
// KVS_V8_INTERRUPT_BUDGET (bytes; 0 = V8's default) replaces it, for measuring. Only this flag: most V8
// flags cannot change once the heap exists (e.g. the GC's threads: the process dies on a V8 check).
import { setFlagsFromString } from 'node:v8';

export const DEFAULT_INTERRUPT_BUDGET = 1024;

/** The budget to set (undefined: leave V8's default); throws on a value that is not a whole number of bytes. */
export function interruptBudget(env: string | undefined): number | undefined {
  if (env === undefined || env.trim() === '') return DEFAULT_INTERRUPT_BUDGET;
  const n = Number(env);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`KVS_V8_INTERRUPT_BUDGET must be a whole number of bytes (0 = V8's default), got '${env}'`);
  return n === 0 ? undefined : n;
}

let budget: number | undefined;
try {
  budget = interruptBudget(process.env.KVS_V8_INTERRUPT_BUDGET);
} catch (e) {
  process.stderr.write(`kvs-node: ${(e as Error).message}\n`);
  process.exit(2);
}
if (budget !== undefined) setFlagsFromString(`--interrupt-budget=${budget}`);
