// The store's V8 interrupt budget (server/v8-tuning.ts): the default, the override, bad values refused.
import assert from 'node:assert/strict';
import { DEFAULT_INTERRUPT_BUDGET, interruptBudget } from '../../../node/src/server/v8-tuning.js';

describe('v8 tuning: interrupt budget', () => {
  it('defaults to 1 KiB when KVS_V8_INTERRUPT_BUDGET is unset or empty', () => {
    assert.equal(DEFAULT_INTERRUPT_BUDGET, 1024);
    assert.equal(interruptBudget(undefined), 1024);
    assert.equal(interruptBudget(' '), 1024);
  });

  it('takes a whole number of bytes; 0 leaves V8 its own default', () => {
    assert.equal(interruptBudget('4096'), 4096);
    assert.equal(interruptBudget('0'), undefined);
  });

  it('refuses anything else with a message naming the variable', () => {
    for (const bad of ['lots', '-1', '1.5', '1e400', '--single-threaded-gc']) {
      assert.throws(() => interruptBudget(bad), /KVS_V8_INTERRUPT_BUDGET must be a whole number of bytes/, bad);
    }
  });
});
