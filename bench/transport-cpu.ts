// CPU per request of the two KvClient transports, client and server in ONE process over loopback gRPC
// with the in-memory FakeStore (no engine, no Raft): what is left is grpc-js/HTTP/2, protobuf, the
// BatchStream envelope and the handlers — i.e. the transport's own cost. Rounds alternate unary/stream
// so JIT warm-up and machine noise hit both.
//   node dist/bench/transport-cpu.js [--requests 40000] [--concurrency 256] [--rounds 2]
import { parseArgs } from 'node:util';
import { KvClient } from '../node/src/client/index.js';
import { startTestNode } from '../test/helpers/test-node.js';

const { values: a } = parseArgs({
  options: {
    requests: { type: 'string', default: '40000' },
    concurrency: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '2' },
  },
});
const N = Number(a.requests);
const C = Number(a.concurrency);

const t = await startTestNode();
try {
  for (let round = 1; round <= Number(a.rounds); round++) {
    for (const transport of ['unary', 'stream'] as const) {
      const c = new KvClient({ endpoints: t.endpoint, transport });
      await c.put('k', 'v');
      for (const op of ['get', 'put'] as const) {
        let next = 0;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: C }, async () => {
            while (next++ < N) {
              if (op === 'get') await c.get('k');
              else await c.put(`k${next % 1000}`, 'v');
            }
          }),
        );
        const cpu = process.cpuUsage(cpu0);
        const ms = performance.now() - t0;
        console.log(
          `round ${round} ${transport.padEnd(6)} ${op} c=${C}: ${((N / ms) * 1000).toFixed(0).padStart(6)} ops/s, ${((cpu.user + cpu.system) / N).toFixed(1).padStart(6)} µs CPU per request (client + server)`,
        );
      }
      c.close();
    }
  }
} finally {
  await t.stop();
}
