// The workload of a run plan (schedule.ts → workload-*.ts).
import type { RunPlan } from './schedule.js';
import type { Workload } from './workload.js';
import { BankWorkload } from './workload-bank.js';
import { CounterWorkload } from './workload-counter.js';
import { RegisterWorkload } from './workload-register.js';
import { WriteSkewWorkload } from './workload-write-skew.js';

export function makeWorkload(plan: RunPlan): Workload {
  switch (plan.workload) {
    case 'register':
      return new RegisterWorkload(plan.keys);
    case 'counter':
      // The recipe increments by transactions only (the path issue 10 found duplicating).
      return new CounterWorkload(plan.pinFollowers ? 1 : 0.7);
    case 'bank':
      return new BankWorkload();
    case 'write-skew':
      // About three clients per pair: enough overlap on a pair for skew to be likely if allowed.
      return new WriteSkewWorkload(Math.max(1, Math.round(plan.clients / 3)));
  }
}
