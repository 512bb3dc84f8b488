#!/usr/bin/env node
// kvsctl entry point (package.json "bin"). The program lives in ./kvsctl-app.ts; run `kvsctl --help`.
import { runKvsctl } from './kvsctl-app.js';
import { quietIpServernameWarning } from '../common/tls.js';

quietIpServernameWarning();

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const code = await runKvsctl(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin,
  stdinIsTTY: !!process.stdin.isTTY,
  env: process.env,
});
// Flush stdout before exiting (pipes are asynchronous).
process.stdout.write('', () => process.exit(code));
