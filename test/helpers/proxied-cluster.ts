// Node processes whose every store-to-store link goes through its own fault proxy (process-proxy.ts),
// so a test can cut, black-hole or hold one direction between two nodes while clients reach every node
// directly: node i dials node j through links.get("i>j").
import { NodeProcess } from './cluster-process.js';
import { FaultProxy } from './process-proxy.js';

export interface ProxiedCluster {
  nodes: Map<number, NodeProcess>;
  /** "i>j": node i's link to node j. */
  links: Map<string, FaultProxy>;
}

/**
 * Starts nodes 1..n (raft ids 1..n) on `127.0.<hostNet>.<10+id>`, node i's proxies to the others on
 * `127.0.<proxyNet>.<10+i>`; `args` are added to each node's --raft-id/--peers.
 */
export async function startProxiedCluster(o: { n: number; hostNet: number; proxyNet: number; env?: Record<string, string>; args?: string[] }): Promise<ProxiedCluster> {
  const nodes = new Map<number, NodeProcess>();
  const links = new Map<string, FaultProxy>();
  for (let id = 1; id <= o.n; id++) {
    const n: NodeProcess = new NodeProcess({
      nodeId: `n${id}`,
      host: `127.0.${o.hostNet}.${10 + id}`,
      env: { KVS_LOG_LEVEL: 'info', ...o.env },
      extraArgs: () => {
        const peers = [`${id}=${n.address}`];
        for (let j = 1; j <= o.n; j++) if (j !== id) peers.push(`${j}=${links.get(`${id}>${j}`)!.address}`);
        return ['--raft-id', String(id), '--peers', peers.join(','), ...(o.args ?? [])];
      },
    });
    await n.allocatePorts();
    nodes.set(id, n);
  }
  for (let i = 1; i <= o.n; i++) {
    for (let j = 1; j <= o.n; j++) if (i !== j) links.set(`${i}>${j}`, await FaultProxy.start(nodes.get(j)!.address, { host: `127.0.${o.proxyNet}.${10 + i}` }));
  }
  await Promise.all([...nodes.values()].map((n) => n.start()));
  return { nodes, links };
}
