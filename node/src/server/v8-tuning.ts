// V8 tiering of a store process, set before any other module of the store runs (main.ts imports this
// module first; V8 reads the budget when a function's feedback is allocated, at its first calls).
//
// A request crosses hundreds of functions, each run once or a few times per request. V8 moves a function
// up a tier each time it has executed its interrupt budget of bytecode (default 132 KiB; the optimising
// tier needs several such ticks), so at a few hundred requests per second — one put or transaction in
// flight — the commit path stayed in the interpreter and baseline tiers for 15–30 s after every start
// (a rolling upgrade's restart, a new leader's first requests). With a 1 KiB budget it is optimised within
// the first second or two; the steady state is the same (docs/benchmarks.md, 2026-12-06 17:00).
// KVS_V8_FLAGS replaces these flags ('' = V8's defaults), for measuring.
import { setFlagsFromString } from 'node:v8';

export const DEFAULT_V8_FLAGS = '--interrupt-budget=1024';

const flags = process.env.KVS_V8_FLAGS ?? DEFAULT_V8_FLAGS;
if (flags.trim() !== '') setFlagsFromString(flags);
