// kubectl helpers of the e2e scenarios (KVS_KUBECTL and KUBECONFIG come from e2e/run-e2e.sh).
import { execFile } from 'node:child_process';

const KUBECTL = process.env.KVS_KUBECTL ?? 'kubectl';

export function kubectl(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(KUBECTL, args, { timeout: 60_000, maxBuffer: 32 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(String(stdout)))),
  );
}

export const getJson = async (...args: string[]): Promise<any> => JSON.parse(await kubectl('get', ...args, '-o', 'json'));

/** `kubectl apply -f -` of one object. */
export function applyManifest(obj: object): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const p = execFile(KUBECTL, ['apply', '-f', '-'], { timeout: 60_000 }, (err, _o, stderr) => (err ? reject(new Error(`kubectl apply: ${stderr || err.message}`)) : resolve()));
    p.stdin?.end(JSON.stringify(obj));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls fn every second until it returns a value other than undefined/false; the last error in the timeout message. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(1000);
  }
}
