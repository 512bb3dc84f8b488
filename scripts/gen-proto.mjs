#!/usr/bin/env node
// Generates TypeScript types for every proto/*.proto into node/src/generated/ (never edit those by hand).
// Options mirror the runtime loader (node/src/common/proto.ts): camelCase fields, 64-bit ints as Number,
// enums as String, defaults on, bytes as Buffer. Generates into a temp dir and only rewrites files whose
// content changed (stable mtimes, deterministic output: no absolute paths).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = join(root, 'proto');
const outDir = join(root, 'node', 'src', 'generated');
const protos = readdirSync(protoDir).filter((f) => f.endsWith('.proto')).sort();
if (protos.length === 0) {
  console.error('gen-proto: no .proto files in proto/');
  process.exit(1);
}
const tmp = mkdtempSync(join(tmpdir(), 'kvs-gen-proto-'));
try {
  const bin = join(root, 'node_modules', '@grpc', 'proto-loader', 'build', 'bin', 'proto-loader-gen-types.js');
  execFileSync(
    process.execPath,
    [bin, '--longs=Number', '--enums=String', '--defaults', '--oneofs', '--includeComments', '--grpcLib=@grpc/grpc-js',
      '--importFileExtension=.js', '-I', protoDir, '-O', tmp, ...protos],
    { stdio: 'inherit', cwd: root },
  );
  const walk = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
  const fresh = new Set();
  let changed = 0;
  for (const file of walk(tmp)) {
    const rel = relative(tmp, file);
    fresh.add(rel);
    const text = readFileSync(file, 'utf8').split(protoDir).join('proto');
    const dest = join(outDir, rel);
    if (existsSync(dest) && readFileSync(dest, 'utf8') === text) continue;
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, text);
    changed++;
  }
  if (existsSync(outDir)) {
    for (const file of walk(outDir)) {
      if (!fresh.has(relative(outDir, file))) {
        rmSync(file);
        changed++;
      }
    }
  }
  console.log(`gen-proto: ${protos.join(', ')} -> node/src/generated/ (${changed} file(s) updated)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
