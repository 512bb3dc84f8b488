// `helm template` of the operator chart with and without cert-manager / an existing TLS Secret: which
// objects render, and that the certificates carry what the operator and the nodes check (the names
// the operator verifies while dialing pod IPs, the peers' names, server/client auth, the admin CN).
// helm: the e2e's cached binary (e2e/cluster/env.sh KVS_BIN; `make test-chart` builds it when missing).
import { strict as assert } from 'node:assert';
import { parseAllDocuments } from 'yaml';
import { names } from '../../operator/src/controller/names.js';
import type { KvsCluster } from '../../operator/src/api/types.js';
import { CHART, HELM, run } from '../monitoring/tools.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: any };

function render(...set: string[]): { status: number | null; out: string; docs: Obj[] } {
  const r = run(HELM, ['template', 'kvs-operator', CHART, '--namespace', 'kvs-system', ...set.flatMap((s) => ['--set', s])]);
  const docs = r.status === 0 ? parseAllDocuments(r.out).map((d) => d.toJS() as Obj).filter(Boolean) : [];
  return { ...r, docs };
}
const ofKind = (docs: Obj[], kind: string) => docs.filter((d) => d.kind === kind);
const operatorPod = (docs: Obj[]) => ofKind(docs, 'Deployment')[0]!.spec.template.spec;
const tlsVolume = (docs: Obj[]) => operatorPod(docs).volumes.find((v: any) => v.name === 'tls');
const tlsEnv = (docs: Obj[]) => (operatorPod(docs).containers[0].env as Array<{ name: string; value?: string }>).filter((e) => e.name.startsWith('KVS_OPERATOR_TLS_'));

const CM = ['certManager.enabled=true', 'certManager.issuerRef.name=kvs-ca', 'certManager.clusters[0].name=demo', 'certManager.clusters[0].namespace=apps', 'certManager.clusters[1].name=other', 'certManager.clusters[1].namespace=team', 'certManager.clusters[1].secretName=other-certs'];

describe('chart render (helm template): TLS of the operator, cert-manager Certificates', function () {
  this.timeout(60_000);

  it('defaults: no Certificate, the operator without a client certificate', () => {
    const r = render();
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(ofKind(r.docs, 'Certificate'), []);
    assert.equal(tlsVolume(r.docs), undefined);
    assert.deepEqual(tlsEnv(r.docs), []);
  });

  it('networkPolicy (default on): the operator renders a per-cluster NetworkPolicy admitting its own pods (labels it selects on) to the Admin port, with RBAC for it; off: neither', () => {
    const r = render();
    assert.equal(r.status, 0, r.out);
    const arg = (operatorPod(r.docs).containers[0].args as string[]).find((a) => a.startsWith('--admin-network-policy='));
    const labels = Object.fromEntries(arg!.slice('--admin-network-policy='.length).split(',').map((kv) => kv.split('=')));
    // Exactly the labels the operator's pods carry: the policy admits the operator and nothing else.
    const podLabels = ofKind(r.docs, 'Deployment')[0]!.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(labels)) assert.equal(podLabels[k], v, k);
    assert.deepEqual(labels, ofKind(r.docs, 'Deployment')[0]!.spec.selector.matchLabels);
    const rules = (d: Obj[]) => ofKind(d, 'ClusterRole').flatMap((x: any) => x.rules).filter((x: any) => x.resources.includes('networkpolicies'));
    assert.deepEqual(rules(r.docs).map((x: any) => x.verbs), [['get', 'create', 'patch']]);
    const off = render('networkPolicy.enabled=false');
    assert.equal(off.status, 0, off.out);
    assert.ok(!(operatorPod(off.docs).containers[0].args as string[]).some((a) => a.startsWith('--admin-network-policy')));
    assert.deepEqual(rules(off.docs), []);
  });

  it('tls.secretName: the existing Secret is mounted and the operator reads its three files; still no Certificate', () => {
    const r = render('tls.secretName=my-operator-tls');
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(ofKind(r.docs, 'Certificate'), []);
    assert.deepEqual(tlsVolume(r.docs), { name: 'tls', secret: { secretName: 'my-operator-tls', defaultMode: 0o440 } });
    const mount = operatorPod(r.docs).containers[0].volumeMounts.find((m: any) => m.name === 'tls');
    assert.deepEqual(mount, { name: 'tls', mountPath: '/etc/kvs-operator/tls', readOnly: true });
    assert.deepEqual(Object.fromEntries(tlsEnv(r.docs).map((e) => [e.name, e.value])), {
      KVS_OPERATOR_TLS_CA_FILE: '/etc/kvs-operator/tls/ca.crt',
      KVS_OPERATOR_TLS_CERT_FILE: '/etc/kvs-operator/tls/tls.crt',
      KVS_OPERATOR_TLS_KEY_FILE: '/etc/kvs-operator/tls/tls.key',
    });
    // 0440 files: readable through the pod's fsGroup by the non-root operator (uid/gid 1000).
    assert.equal(operatorPod(r.docs).securityContext.fsGroup, 1000);
  });

  it('certManager.enabled: the operator\'s admin certificate (mounted) and one node certificate per listed KvsCluster', () => {
    const r = render(...CM, 'tls.secretName=ignored-when-cert-manager-issues');
    assert.equal(r.status, 0, r.out);
    const certs = ofKind(r.docs, 'Certificate');
    assert.deepEqual(certs.map((c) => `${c.metadata.namespace}/${c.metadata.name}`), ['kvs-system/kvs-operator-tls', 'apps/demo-tls', 'team/other-tls']);
    assert.ok(certs.every((c) => c.apiVersion === 'cert-manager.io/v1'));
    assert.ok(certs.every((c) => c.spec.issuerRef.name === 'kvs-ca' && c.spec.issuerRef.kind === 'ClusterIssuer' && c.spec.issuerRef.group === 'cert-manager.io'));
    const [op, demo, other] = certs as [Obj, Obj, Obj];
    assert.equal(op.spec.commonName, 'kvs-admin');
    assert.deepEqual(op.spec.usages, ['digital signature', 'key encipherment', 'client auth']);
    assert.equal(tlsVolume(r.docs).secret.secretName, op.spec.secretName, 'the operator mounts the Secret its Certificate writes');
    assert.equal(tlsEnv(r.docs).length, 3);
    // What the operator checks (ClusterNodeAdmins: <name>.<namespace>.svc) and the peers dial (names.ts).
    const cluster = { metadata: { name: 'demo', namespace: 'apps' } } as KvsCluster;
    assert.equal(demo.spec.secretName, 'demo-tls');
    assert.equal(demo.spec.commonName, 'kvs-node');
    assert.ok(demo.spec.dnsNames.includes('demo.apps.svc'));
    assert.ok(demo.spec.dnsNames.includes(`*.${names.peerService(cluster)}.apps.svc`));
    assert.deepEqual(demo.spec.usages, ['digital signature', 'key encipherment', 'server auth', 'client auth']);
    assert.equal(other.spec.secretName, 'other-certs');
  });

  it('certManager.enabled without an issuer, or a cluster entry without a namespace, fails with a message', () => {
    const a = render('certManager.enabled=true');
    assert.notEqual(a.status, 0);
    assert.match(a.out, /certManager\.enabled needs certManager\.issuerRef\.name/);
    const b = render('certManager.enabled=true', 'certManager.issuerRef.name=x', 'certManager.clusters[0].name=demo');
    assert.notEqual(b.status, 0);
    assert.match(b.out, /needs name and namespace/);
  });
});
