import { FakeStore } from '../../helpers/fake-store.js';
import { rpcSuite } from './rpc-suite.js';

rpcSuite('the fake store', (metrics) => new FakeStore(metrics.storeObserver()));
