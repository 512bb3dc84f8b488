// Locates files shipped with the package (proto/) from compiled code in dist/ or any dist-*/ tree.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The directory holding the root package.json (the repository or the installed package). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto'))) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot locate the kvs package root (package.json + proto/)');
    dir = parent;
  }
}

export function protoPath(file: string): string {
  return join(packageRoot(), 'proto', file);
}
