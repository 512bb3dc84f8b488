#!/usr/bin/env node
// kvs-operator: reconciles KvsClusters. Kubeconfig from KUBECONFIG (or ~/.kube/config) or in-cluster.
//   node dist/operator/src/main.js [--metrics-bind-address 127.0.0.1:8080] [--leader-elect true] ...
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { createLogger } from '../../node/src/common/logger.js';
import { reconcile } from './controller/reconcile.js';
import { Informers } from './runtime/informers.js';
import { KubeLeaseApi, KubeWriter, loadKubeConfig } from './runtime/kube.js';
import { ClusterNodeAdmins } from './runtime/admin.js';
import { ReloadingTls, quietIpServernameWarning } from '../../node/src/common/tls.js';
import type { KvsCluster } from './api/types.js';
import type { V1Pod } from '@kubernetes/client-node';
import { podTlsMode } from './controller/tls-mode.js';
import { LeaderElector } from './runtime/leader.js';
import { Manager } from './runtime/manager.js';
import { OperatorMetrics, startHttp } from './runtime/metrics.js';
import { NodeLabelCache } from './runtime/node-labels.js';
import { PlacementDriver } from './runtime/placement-driver.js';

const program = new Command()
  .name('kvs-operator')
  .description('Kubernetes operator for kvs clusters (KvsCluster, kvs.dev/v1alpha1)')
  .option('--metrics-bind-address <host:port>', '/metrics, /healthz and /readyz', process.env.KVS_OPERATOR_METRICS_ADDR ?? '127.0.0.1:8080')
  .option('--leader-elect <bool>', 'elect a leader through a Lease (several replicas)', 'true')
  .option('--lease-name <name>', 'Lease name', 'kvs-operator-leader')
  .option('--lease-namespace <ns>', 'namespace of the Lease (default: POD_NAMESPACE or default)')
  .option('--lease-duration <s>', 'lease duration (s)', '15')
  .option('--renew-deadline <s>', 'leader gives up after failing to renew this long (s)', '10')
  .option('--retry-period <s>', 'renew/acquire period (s)', '2')
  .option('--watch-namespace <ns>', 'watch one namespace only (default: all)', process.env.WATCH_NAMESPACE || undefined)
  .option('--workers <n>', 'concurrent reconciles (never two for one cluster)', '2')
  .option('--resync <s>', 'reconcile every cluster at least this often (s)', '300')
  .option('--identity <id>', 'leader election identity (default: POD_NAME or hostname + random)')
  .option('--node-admin <mode>', 'how to reach the kvs nodes\' admin API: grpc (pod IPs) or none (observe Kubernetes only; no membership change)', process.env.KVS_OPERATOR_NODE_ADMIN ?? 'grpc')
  .option('--tls-ca-file <path>', 'CA verifying the nodes of clusters with spec.tls', process.env.KVS_OPERATOR_TLS_CA_FILE || undefined)
  .option('--tls-cert-file <path>', 'the operator\'s client certificate for clusters with spec.tls (an admin identity, default CN kvs-admin)', process.env.KVS_OPERATOR_TLS_CERT_FILE || undefined)
  .option('--tls-key-file <path>', 'the key of --tls-cert-file', process.env.KVS_OPERATOR_TLS_KEY_FILE || undefined)
  .option(
    '--admin-network-policy <labels>',
    'render a NetworkPolicy per KvsCluster that lets only pods with these labels (k=v,...) in the operator\'s namespace (POD_NAMESPACE) reach the nodes\' Admin port',
    process.env.KVS_OPERATOR_ADMIN_NETWORK_POLICY || undefined,
  )
  .option('--log-level <level>', 'log level', process.env.KVS_LOG_LEVEL ?? 'info');

async function main(): Promise<void> {
  quietIpServernameWarning();
  const o = program.parse().opts<Record<string, string>>();
  const logger = createLogger({ component: 'kvs-operator', level: o['logLevel'] });
  const identity = o['identity'] ?? process.env.POD_NAME ?? `${hostname()}-${randomBytes(3).toString('hex')}`;
  const leaseNs = o['leaseNamespace'] ?? process.env.POD_NAMESPACE ?? 'default';
  const kc = loadKubeConfig();
  const metrics = new OperatorMetrics();
  const writer = new KubeWriter(kc, identity);
  const tlsFiles = [o['tlsCaFile'], o['tlsCertFile'], o['tlsKeyFile']];
  if (tlsFiles.some((f) => f !== undefined) && tlsFiles.some((f) => f === undefined)) throw new Error('--tls-ca-file, --tls-cert-file and --tls-key-file go together');
  // Read and validated now: unusable files stop the operator with the reason, not every reconcile.
  const clientTls = o['tlsCaFile'] ? new ReloadingTls({ sources: { ca: o['tlsCaFile'], cert: o['tlsCertFile']!, key: o['tlsKeyFile']!, labels: { ca: '--tls-ca-file', cert: '--tls-cert-file', key: '--tls-key-file' } }, requireCert: true, logger, role: 'operator' }) : undefined;
  const adminPeers = o['adminNetworkPolicy'] ? { namespace: process.env.POD_NAMESPACE ?? leaseNs, podLabels: parseLabels(o['adminNetworkPolicy']) } : undefined;
  const admins = o['nodeAdmin'] === 'none' ? undefined : new ClusterNodeAdmins({ logger, ...(clientTls ? { clientTls } : {}) });
  let informers: Informers | undefined;
  const placement = new PlacementDriver({ logger });
  const nodeLabels = NodeLabelCache.forKube(kc, logger);
  const manager = new Manager({
    logger,
    metrics,
    workers: Number(o['workers']),
    resyncMs: Number(o['resync']) * 1000,
    reconcile: (key) =>
      reconcile(key, {
        cache: informers!,
        writer,
        reader: writer,
        logger,
        ...(admins ? { adminFor: (c: KvsCluster, pods: V1Pod[]) => admins.forCluster(c, pods.map(podTlsMode)) } : {}),
        ...(adminPeers ? { planOptions: { adminPeers } } : {}),
        onApply: (kind) => metrics.applyTotal.inc({ kind }),
        onMembershipStep: (type, result) => metrics.membershipSteps.inc({ type, result }),
        placement,
        onPlacement: (key, pass) => metrics.recordPlacement(key, pass),
        nodeLabels: nodeLabels.labelsOf,
      }),
  });
  informers = new Informers(kc, (key, urgent) => (urgent ? manager.queue.addUrgent(key) : manager.queue.add(key)), logger, o['watchNamespace']);
  // A standby instance reports no cluster: only the leader's cache is live.
  metrics.setClusterSource(() => (manager.isRunning ? informers!.listClusters() : []));
  const leaderElect = o['leaderElect'] !== 'false';
  let elector: LeaderElector | undefined;

  const server = await startHttp(
    metrics,
    {
      // The loops that must keep turning: leader election, informers and workers (while leading).
      problems: () => [...(elector?.healthProblems() ?? []), ...manager.healthProblems(), ...(manager.isRunning ? informers!.healthProblems() : [])],
      // Ready: a passive instance is ready (it stands by); a leader once its caches are synced.
      ready: () => !manager.isRunning || manager.isSynced,
    },
    o['metricsBindAddress']!,
  );
  logger.info('kvs-operator starting', { identity, leaderElect, lease: `${leaseNs}/${o['leaseName']}`, metrics: o['metricsBindAddress'], namespace: o['watchNamespace'] ?? '(all)' });

  const startLeading = () => {
    metrics.isLeader.set(1);
    manager.start(informers!, informers!).catch((e: unknown) => {
      logger.error('manager failed to start', { err: String(e) });
      process.exit(1);
    });
  };

  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down');
    const hard = setTimeout(() => process.exit(code), 10_000);
    hard.unref();
    await manager.stop(informers).catch(() => undefined);
    await elector?.stop().catch(() => undefined);
    server.close();
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));

  if (!leaderElect) {
    startLeading();
    return;
  }
  elector = new LeaderElector(new KubeLeaseApi(kc, leaseNs, o['leaseName']!), {
    identity,
    logger,
    leaseDurationMs: Number(o['leaseDuration']) * 1000,
    renewDeadlineMs: Number(o['renewDeadline']) * 1000,
    retryPeriodMs: Number(o['retryPeriod']) * 1000,
    onStartedLeading: startLeading,
    onStoppedLeading: () => {
      metrics.isLeader.set(0);
      if (!stopping) {
        // Like controller-runtime: a deposed leader exits; its restart joins as a candidate.
        logger.error('leadership lost; exiting');
        void shutdown(1);
      }
    },
    onNewLeader: (id) => logger.info('leader observed', { leader: id, me: id === identity }),
  });
  metrics.isLeader.set(0);
  elector.start();
}

/** `k=v,k2=v2` → labels; anything else stops the operator with the reason. */
function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)\s*$/.exec(part);
    if (!m) throw new Error(`--admin-network-policy: "${part}" is not a label k=v (expected k=v,k2=v2)`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
