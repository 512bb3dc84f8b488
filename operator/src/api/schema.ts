// OpenAPI v3 schema + CEL rules of KvsCluster v1alpha1: the single source the CRD is generated from
// (operator/src/api/gen-crd.ts → crds/kvs.dev_kvsclusters.yaml). Keep in step with types.ts; a unit
// test compares the field names of both.
import { DEFAULTS } from './types.js';

export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: (string | number)[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  maxProperties?: number;
  pattern?: string;
  format?: string;
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: { rule: string; message: string; reason?: string; fieldPath?: string }[];
}

const str = (description: string, extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({ type: 'string', description, ...extra });
const intOrString: JSONSchemaProps = {
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
};
// A quantity below zero passes the pattern (it allows a sign) and is only refused later, by the
// StatefulSet controller when it creates the pods — visible in nobody's status. Refuse it here.
const nonNegative = (v: string) => `type(${v}) == int ? ${v} >= 0 : (isQuantity(${v}) && !quantity(${v}).isLessThan(quantity('0')))`;
const quantityMap = (description: string): JSONSchemaProps => ({
  type: 'object',
  description,
  // maxLength bounds the CEL cost estimate (quantities are short).
  additionalProperties: { ...intOrString, maxLength: 64, 'x-kubernetes-validations': [{ rule: nonNegative('self'), message: 'resource quantities must not be negative' }] },
  // The API server's CEL cost budget allows the quantity check on at most ~10 entries.
  maxProperties: 8,
});

/**
 * Longest KvsCluster name whose children are all valid: the StatefulSet controller labels each pod
 * controller-revision-hash=<name>-<hash of up to 10 characters> and label values are at most 63
 * characters (the Services <name>-peers and the pods <name>-<ordinal> would allow a little more).
 */
export const MAX_CLUSTER_NAME_LENGTH = 52;

/** Flags the operator sets itself; nodeConfig may not override them. */
export const RESERVED_NODE_CONFIG_KEYS = ['listen', 'http', 'data-dir', 'node-id', 'raft-id', 'peers', 'join', 'raft-listen', 'advertise', 'env-file', 'cert-file', 'key-file', 'trusted-ca-file', 'admin-identities', 'peer-identities'];
const identityList = (description: string): JSONSchemaProps => ({
  type: 'array',
  description,
  maxItems: 16,
  'x-kubernetes-list-type': 'set',
  items: { type: 'string', minLength: 1, maxLength: 253, pattern: '^(\\*\\.)?[^*\\s,]+$' },
});

export const specSchema: JSONSchemaProps = {
  type: 'object',
  description: 'Desired state of a kvs cluster.',
  required: ['replicas', 'storage'],
  'x-kubernetes-validations': [
    {
      // A drain may take maxUnavailable pods at once; more than (replicas-1)/2 loses the Raft majority.
      // Below 3 replicas any loss does; 1 (the default) stays allowed there, so small clusters keep working.
      rule:
        '!has(self.podDisruptionBudget) || !has(self.podDisruptionBudget.maxUnavailable) || ' +
        'self.podDisruptionBudget.maxUnavailable <= (self.replicas >= 3 ? (self.replicas - 1) / 2 : 1)',
      message:
        'podDisruptionBudget.maxUnavailable must leave a Raft majority running: at most (replicas-1)/2 ' +
        '(1 for 3 or 4 replicas, 2 for 5 or 6), and at most 1 below 3 replicas',
    },
    {
      rule: '!has(self.replicationFactor) || self.replicationFactor <= self.replicas',
      message: 'replicationFactor must be at most replicas: each range needs that many distinct stores',
    },
  ],
  properties: {
    replicas: {
      type: 'integer',
      format: 'int32',
      description: 'Number of kvs nodes (Raft voters). Odd numbers (1, 3, 5) tolerate the most failures per node.',
      minimum: 1,
      maximum: 99,
      'x-kubernetes-validations': [{ rule: 'self >= 1', message: 'replicas must be at least 1' }],
    },
    replicationFactor: {
      type: 'integer',
      format: 'int32',
      minimum: 1,
      maximum: 99,
      description: 'Voters per range, on distinct stores (odd, at most replicas). Unset: 3, or the largest odd number ≤ replicas when smaller.',
      'x-kubernetes-validations': [{ rule: 'self % 2 == 1', message: 'replicationFactor must be odd (1, 3, 5): an even count adds a voter without adding fault tolerance' }],
    },
    placement: {
      type: 'object',
      description: 'Placement of range replicas across the stores (the operator moves replicas and leaderships; see docs/operator.md).',
      properties: {
        topologyKey: str("Node label whose values the replicas of a range spread across, e.g. topology.kubernetes.io/zone: read from the Kubernetes node each store's pod runs on (the operator needs get on nodes).", { minLength: 1, maxLength: 316 }),
        maxConcurrentMoves: {
          type: 'integer',
          format: 'int32',
          minimum: 1,
          maximum: 64,
          default: DEFAULTS.maxConcurrentMoves,
          description: 'Replica moves in flight at once, cluster-wide (leader transfers: the same number per pass).',
        },
      },
    },
    image: str('Container image of the kvs node.', { default: DEFAULTS.image, minLength: 1 }),
    version: str('kvs version the image contains; reported as status.currentVersion once every node runs it.', {
      default: DEFAULTS.version,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$',
      maxLength: 63,
    }),
    resources: {
      type: 'object',
      description: 'Compute resources of each kvs node container (core/v1 ResourceRequirements).',
      properties: {
        limits: quantityMap('Maximum resources, e.g. {cpu: "1", memory: 1Gi}.'),
        requests: quantityMap('Requested resources, e.g. {cpu: 250m, memory: 256Mi}.'),
      },
    },
    storage: {
      type: 'object',
      description: 'Persistent volume of each node. Immutable once the cluster is created.',
      required: ['size'],
      properties: {
        size: {
          ...intOrString,
          description: 'PVC size of each node, e.g. 1Gi.',
          'x-kubernetes-validations': [
            {
              rule: `type(self) == int ? self > 0 : (isQuantity(self) && quantity(self).isGreaterThan(quantity('0')))`,
              message: 'storage.size must be a positive quantity such as 1Gi',
            },
          ],
        },
        storageClassName: str('StorageClass of the PVCs; the cluster default when unset.', { minLength: 1 }),
      },
      'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'spec.storage is immutable once the cluster is created' }],
    },
    affinity: {
      type: 'object',
      description:
        'core/v1 Affinity of the kvs pods. The default soft anti-affinity (prefer one kvs pod per node) is kept ' +
        'unless this sets podAntiAffinity, which then replaces it.',
      'x-kubernetes-preserve-unknown-fields': true,
    },
    topologySpreadConstraints: {
      type: 'array',
      description: 'core/v1 TopologySpreadConstraints of the kvs pods; labelSelector defaults to the cluster\'s pods.',
      items: {
        type: 'object',
        required: ['maxSkew', 'topologyKey', 'whenUnsatisfiable'],
        properties: {
          maxSkew: { type: 'integer', format: 'int32', minimum: 1 },
          topologyKey: str('Node label key, e.g. topology.kubernetes.io/zone.'),
          whenUnsatisfiable: str('DoNotSchedule or ScheduleAnyway.', { enum: ['DoNotSchedule', 'ScheduleAnyway'] }),
        },
        'x-kubernetes-preserve-unknown-fields': true,
      },
    },
    tolerations: {
      type: 'array',
      description: 'core/v1 Tolerations of the kvs pods.',
      items: {
        type: 'object',
        properties: {
          key: str('Taint key.'),
          operator: str('Exists or Equal.', { enum: ['Exists', 'Equal'] }),
          value: str('Taint value.'),
          effect: str('NoSchedule, PreferNoSchedule or NoExecute.', { enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }),
          tolerationSeconds: { type: 'integer', format: 'int64' },
        },
      },
    },
    podDisruptionBudget: {
      type: 'object',
      description: 'PodDisruptionBudget of the kvs pods.',
      properties: {
        maxUnavailable: {
          type: 'integer',
          format: 'int32',
          minimum: 0,
          default: DEFAULTS.pdbMaxUnavailable,
          description: 'Pods a voluntary disruption (drain) may take down at once. Keep below a Raft majority.',
        },
      },
    },
    nodeConfig: {
      type: 'object',
      description:
        'Settings passed to every node: key raft-tick-ms reaches the node as environment variable KVS_RAFT_TICK_MS ' +
        '(through the cluster\'s ConfigMap). Changing it rolls the pods.',
      additionalProperties: { type: 'string' },
      maxProperties: 64,
      'x-kubernetes-validations': [
        {
          rule: "self.all(k, k.matches('^[a-z][a-z0-9-]*$'))",
          message: 'nodeConfig keys must be lowercase flag names such as raft-tick-ms',
        },
        {
          rule: `self.all(k, !(k in [${RESERVED_NODE_CONFIG_KEYS.map((k) => `'${k}'`).join(', ')}]))`,
          message: `nodeConfig may not set ${RESERVED_NODE_CONFIG_KEYS.join(', ')}: the operator manages them`,
        },
      ],
    },
    pvcRetentionPolicy: str('What happens to the PVCs when the KvsCluster is deleted: Retain (default) or Delete.', {
      enum: ['Retain', 'Delete'],
      default: DEFAULTS.pvcRetentionPolicy,
    }),
    paused: {
      type: 'boolean',
      default: DEFAULTS.paused,
      description: 'When true the operator makes no changes to the cluster\'s objects (status is still reported).',
    },
    failover: {
      type: 'object',
      description:
        'Automatic replacement of dead members: remove the old raft id, give the pod a new id and an empty volume, ' +
        'add it as a learner and promote it once caught up. A member whose volume was lost is always replaced.',
      properties: {
        enabled: { type: 'boolean', default: DEFAULTS.failoverEnabled, description: 'Replace members unhealthy for longer than downTimeout.' },
        downTimeout: str('How long a member may be unhealthy before it is replaced, e.g. 90s, 5m, 1h (default 5m).', {
          default: DEFAULTS.failoverDownTimeout,
          pattern: '^[0-9]+(s|m|h)$',
        }),
        maxConcurrentReplacements: {
          type: 'integer',
          format: 'int32',
          minimum: 1,
          default: DEFAULTS.maxConcurrentReplacements,
          description: 'Replacements in flight at once.',
        },
      },
    },
    tls: {
      type: 'object',
      description:
        'Mutual TLS on every port of the nodes (Kv, Raft, Admin). The Secret has the kubernetes.io/tls shape cert-manager writes: ' +
        'tls.crt (server and client auth; SANs for the client Service and the pods under the peer Service), tls.key, ca.crt. ' +
        'A rotated Secret is picked up without a restart. Only an admin identity may call the Admin API.',
      required: ['secretName'],
      properties: {
        secretName: str('Secret with tls.crt, tls.key and ca.crt in the cluster namespace.', { minLength: 1, maxLength: 253 }),
        adminIdentities: identityList('Certificate identities (subject CN or DNS/URI SAN; *.suffix matches subdomains) allowed to call the Admin API (default kvs-admin).'),
        peerIdentities: identityList('Certificate identities of the nodes, allowed to call the Raft service (default kvs-node).'),
        transition: {
          type: 'boolean',
          default: false,
          description:
            'Hold the nodes in transition: TLS offered, plaintext also accepted, unauthenticated (the nodes\' --tls-transition). Not needed to turn TLS on or off: ' +
            'the operator rolls every node through transition by itself before any node runs the new mode (two rolling restarts that keep the quorum). ' +
            'Set it to keep the cluster in transition while plaintext clients move to TLS, then set it false.',
        },
      },
    },
  },
};

const conditionSchema: JSONSchemaProps = {
  type: 'object',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: str('Available, Progressing, Degraded, ReconciliationPaused, ScaleInBlocked, MemberReplacement, ApplyFailed or Balanced.'),
    status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
    reason: str('CamelCase reason of the last transition.'),
    message: str('Human-readable details.'),
    lastTransitionTime: str('When status last changed.', { format: 'date-time' }),
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0, description: 'metadata.generation the condition was computed for.' },
  },
};

export const statusSchema: JSONSchemaProps = {
  type: 'object',
  description: 'Observed state of a kvs cluster, written by the operator.',
  properties: {
    phase: str('Creating, Running, Scaling, Upgrading, Degraded, Unavailable or Paused.'),
    conditions: {
      type: 'array',
      items: conditionSchema,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
    observedGeneration: { type: 'integer', format: 'int64', description: 'metadata.generation of the last reconciled spec.' },
    readyReplicas: { type: 'integer', format: 'int32', description: 'Nodes whose pods are ready.' },
    replicas: { type: 'integer', format: 'int32', description: 'Nodes whose pods exist.' },
    selector: str('Label selector of the node pods (for the scale subresource and HPA).'),
    members: {
      type: 'array',
      description: 'One entry per node pod.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['pod'],
      items: {
        type: 'object',
        required: ['pod', 'role', 'healthy'],
        properties: {
          pod: str('Pod name.'),
          raftId: str('Raft member id.'),
          role: str('Leader, Follower, Learner or Unknown.'),
          healthy: { type: 'boolean', description: 'Pod is ready and its node answers the admin API.' },
          appliedIndex: { type: 'integer', format: 'int64', description: 'Last applied Raft index.' },
        },
      },
    },
    leader: str('Pod of the current Raft leader.'),
    currentVersion: str('kvs version every node runs.'),
    nextRaftId: { type: 'integer', format: 'int64', minimum: 1, description: 'Next Raft id the operator hands out (monotonic: ids are never reused).' },
    tlsMode: str('How the node pods speak TLS: plain, tls, or transition (TLS and plaintext accepted; also while the pods differ during a TLS change).', { enum: ['plain', 'transition', 'tls'] }),
    shardMap: {
      type: 'object',
      description: 'The shard map as the placement driver last observed it (range 1, the membership range, excluded).',
      properties: {
        ranges: { type: 'integer', format: 'int32', description: 'Ranges.' },
        underReplicated: { type: 'integer', format: 'int32', description: 'Ranges with fewer healthy voters than the replication factor.' },
        unavailable: { type: 'integer', format: 'int32', description: 'Ranges whose healthy voters are no majority.' },
        movesInFlight: { type: 'integer', format: 'int32', description: 'Replica moves in flight.' },
        replicationFactor: { type: 'integer', format: 'int32', description: 'The replication factor in force.' },
        replicaImbalancePercent: { type: 'integer', format: 'int32', description: 'Largest deviation of a usable store\'s replica count from the mean, in percent.' },
        leaderImbalancePercent: { type: 'integer', format: 'int32', description: 'Largest deviation of a usable store\'s leader count from the mean, in percent.' },
        leaderLoadImbalancePercent: { type: 'integer', format: 'int32', description: 'Largest deviation of a usable store\'s leader load (requests per second of the ranges it leads) from the mean, in percent; 0 when not measured.' },
        stores: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['storeId'],
          items: {
            type: 'object',
            required: ['storeId', 'pod', 'state'],
            properties: {
              pod: str('Pod of the store.'),
              storeId: { type: 'integer', format: 'int64', description: 'Store (raft) id.' },
              ranges: { type: 'integer', format: 'int32', description: 'Replicas it holds.' },
              leaders: { type: 'integer', format: 'int32', description: 'Ranges it leads.' },
              bytes: { type: 'integer', format: 'int64', description: 'Approximate bytes of its replicas.' },
              qps: { type: 'number', description: 'Requests per second of the ranges it leads (reads and writes its stores saw over the last 10–20 s; 0 = not measured).' },
              state: str('up, down, lost, draining or removed.'),
            },
          },
        },
      },
    },
  },
};

export const kvsClusterSchema: JSONSchemaProps = {
  type: 'object',
  description: 'KvsCluster is a replicated, sharded kvs key-value store managed by the kvs operator.',
  required: ['spec'],
  // The name becomes the name of Services (DNS-1035 labels) and a prefix of pod names and labels: a
  // name that cannot produce valid children is refused here instead of failing every apply later.
  'x-kubernetes-validations': [
    {
      rule: `size(self.metadata.name) <= ${MAX_CLUSTER_NAME_LENGTH}`,
      message: `metadata.name must be at most ${MAX_CLUSTER_NAME_LENGTH} characters: it prefixes the names and labels of the cluster's pods (controller-revision-hash=<name>-<hash> must fit 63 characters)`,
    },
    {
      rule: "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
      message: "metadata.name must start with a lowercase letter and contain only lowercase letters, digits and '-' (no '.'): it names the cluster's Services",
    },
  ],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: specSchema,
    status: statusSchema,
  },
};

export const printerColumns = [
  { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas', description: 'Desired nodes' },
  { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Ready nodes' },
  { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
  { name: 'Leader', type: 'string', jsonPath: '.status.leader' },
  { name: 'Version', type: 'string', jsonPath: '.status.currentVersion' },
  { name: 'Ranges', type: 'integer', jsonPath: '.status.shardMap.ranges', description: 'Ranges (range 1 excluded)' },
  { name: 'UnderReplicated', type: 'integer', jsonPath: '.status.shardMap.underReplicated', description: 'Ranges below the replication factor' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];
