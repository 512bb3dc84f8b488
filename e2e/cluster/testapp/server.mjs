// Placeholder app for the cluster pipeline tests (smoke.sh): an HTTP server on $PORT (8080)
// run by the locally assembled Node.js base image, non-root, read-only root filesystem.
//   GET /               {host, dataFiles}     (writes $DATA_DIR/hello-<host> at start if set)
//   GET /resolve?name=N dns.lookup(N) -> {name, address}
//   GET /fetch?url=U    GET U from inside the pod -> its body
import http from 'node:http';
import dns from 'node:dns/promises';
import fs from 'node:fs';
import os from 'node:os';

const port = Number(process.env.PORT ?? 8080);
const dataDir = process.env.DATA_DIR;
if (dataDir) fs.writeFileSync(`${dataDir}/hello-${os.hostname()}`, new Date().toISOString() + '\n');

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const reply = (code, body) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body) + '\n');
  };
  try {
    if (url.pathname === '/') {
      return reply(200, { host: os.hostname(), dataFiles: dataDir ? fs.readdirSync(dataDir).sort() : [] });
    }
    if (url.pathname === '/resolve') {
      const name = url.searchParams.get('name') ?? '';
      const { address } = await dns.lookup(name, { family: 4 });
      return reply(200, { name, address });
    }
    if (url.pathname === '/fetch') {
      const r = await fetch(url.searchParams.get('url') ?? '', { signal: AbortSignal.timeout(5000) });
      return reply(r.status, { status: r.status, body: await r.text() });
    }
    reply(404, { error: 'not found' });
  } catch (err) {
    reply(500, { error: String(err) });
  }
});
server.listen(port, () => console.log(`testapp on :${port} as uid ${process.getuid?.()}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
