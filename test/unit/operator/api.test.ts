// The CRD is generated from operator/src/api/schema.ts; the committed files must equal the generator output,
// and the schema must describe exactly the fields of the TypeScript types.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { CRD_FILES, renderCrd, repoRoot } from '../../../operator/src/api/gen-crd.js';
import { specSchema, statusSchema, type JSONSchemaProps } from '../../../operator/src/api/schema.js';
import type { KvsClusterSpec, KvsClusterStatus } from '../../../operator/src/api/types.js';

// Every field of the types, set (TypeScript fails to compile when a field is added to the type and not here).
const fullSpec: Required<KvsClusterSpec> = {
  replicas: 3,
  replicationFactor: 3,
  placement: { topologyKey: 'topology.kubernetes.io/zone', maxConcurrentMoves: 2 },
  image: 'i',
  version: 'v',
  resources: { limits: {}, requests: {} },
  storage: { size: '1Gi', storageClassName: 's' },
  affinity: {},
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'k', whenUnsatisfiable: 'DoNotSchedule' }],
  tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule', tolerationSeconds: 1 }],
  podDisruptionBudget: { maxUnavailable: 1 },
  nodeConfig: {},
  pvcRetentionPolicy: 'Retain',
  paused: false,
  failover: { enabled: true, downTimeout: '5m', maxConcurrentReplacements: 1 },
  tls: { secretName: 's', adminIdentities: ['kvs-admin'], peerIdentities: ['kvs-node'], transition: false },
};
const fullStatus: Required<KvsClusterStatus> = {
  phase: 'Running',
  conditions: [{ type: 'Available', status: 'True', reason: 'r', message: 'm', lastTransitionTime: 't', observedGeneration: 1 }],
  observedGeneration: 1,
  readyReplicas: 1,
  replicas: 1,
  selector: 's',
  members: [{ pod: 'p', raftId: 'r', role: 'Leader', healthy: true, appliedIndex: 1 }],
  leader: 'p',
  currentVersion: 'v',
  nextRaftId: 4,
  tlsMode: 'tls',
  shardMap: {
    ranges: 4,
    underReplicated: 0,
    unavailable: 0,
    movesInFlight: 0,
    replicationFactor: 3,
    replicaImbalancePercent: 0,
    leaderImbalancePercent: 0,
    leaderLoadImbalancePercent: 0,
    stores: [{ pod: 'p', storeId: 1, ranges: 4, leaders: 1, bytes: 10, qps: 0, state: 'up' }],
  },
};

/** Paths of every key of a value that the schema must declare (maps/preserve-unknown stop the walk). */
function paths(value: unknown, schema: JSONSchemaProps, prefix: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const v of value) if (schema.items) paths(v, schema.items, `${prefix}[]`, out);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (!schema.properties) return; // map or free-form object
  for (const [k, v] of Object.entries(value)) {
    const sub = schema.properties[k];
    if (!sub) {
      out.push(`${prefix}.${k} (missing in schema)`);
      continue;
    }
    paths(v, sub, `${prefix}.${k}`, out);
  }
}

function schemaKeys(schema: JSONSchemaProps, prefix: string, out: string[]): void {
  const s = schema.items ?? schema;
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    if (s['x-kubernetes-preserve-unknown-fields']) continue;
    out.push(`${prefix}.${k}`);
    schemaKeys(v, `${prefix}.${k}`, out);
  }
}

describe('operator API / CRD', () => {
  it('committed CRD files equal the generator output (run make operator-crds)', () => {
    const want = renderCrd();
    for (const f of CRD_FILES) assert.equal(readFileSync(resolve(repoRoot(), f), 'utf8'), want, f);
  });

  it('schema declares every field of the TypeScript types', () => {
    const missing: string[] = [];
    paths(fullSpec, specSchema, 'spec', missing);
    paths(fullStatus, statusSchema, 'status', missing);
    assert.deepEqual(missing, []);
  });

  it('types declare every field of the schema', () => {
    const keys: string[] = [];
    schemaKeys(specSchema, 'spec', keys);
    schemaKeys(statusSchema, 'status', keys);
    const have = new Set<string>();
    const walk = (v: unknown, p: string) => {
      if (Array.isArray(v)) return v.forEach((x) => walk(x, p));
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (have.add(`${p}.${k}`), walk(x, `${p}.${k}`));
    };
    walk(fullSpec, 'spec');
    walk(fullStatus, 'status');
    assert.deepEqual(keys.filter((k) => !have.has(k)), []);
  });

  it('has status + scale subresources, printer columns and the CEL rules', () => {
    const crd = parse(renderCrd());
    const v = crd.spec.versions[0];
    assert.deepEqual(v.subresources.status, {});
    assert.deepEqual(v.subresources.scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' });
    assert.deepEqual(v.additionalPrinterColumns.map((c: { name: string }) => c.name), ['Replicas', 'Ready', 'Phase', 'Leader', 'Version', 'Ranges', 'UnderReplicated', 'Age']);
    const spec = v.schema.openAPIV3Schema.properties.spec;
    assert.equal(spec.properties.storage['x-kubernetes-validations'][0].rule, 'self == oldSelf');
    assert.equal(spec.properties.replicas['x-kubernetes-validations'][0].message, 'replicas must be at least 1');
    assert.deepEqual(spec.properties.pvcRetentionPolicy.enum, ['Retain', 'Delete']);
    assert.equal(spec.properties.pvcRetentionPolicy.default, 'Retain');
  });
});
