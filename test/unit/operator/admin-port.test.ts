// The Admin API on its own port (issue 15: "without TLS, the admin API listens on a separate port that
// the client Service does not expose, and a NetworkPolicy limits it to the operator"): the node pods'
// template, the Services, the NetworkPolicy the operator renders per cluster, where the operator dials
// each pod, and how a NOT_LEADER hint (a Kv address) leads to the leader's admin port.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { getSerializationType } from '@kubernetes/client-node/dist/util.js';
import { AdminClient } from '../../../node/src/client/admin-client.js';
import { NotLeaderError } from '../../../node/src/kv/errors.js';
import { adminServiceDefinition, startAdminServer } from '../../../node/src/raftstore/services.js';
import { toServiceError } from '../../../node/src/server/status-mapping.js';
import { plan } from '../../../operator/src/controller/plan.js';
import { PORT_ADMIN, PORT_GRPC, adminAddress } from '../../../operator/src/controller/names.js';
import { NOW, cluster, healthyStatus, membersCm, pods, reports, sts } from './fixtures.js';

const G3 = [{ id: 1, pod: 'demo-0' }, { id: 2, pod: 'demo-1' }, { id: 3, pod: 'demo-2' }];
const observed = () => ({ statefulSet: sts(3), pods: pods(3), pvcs: [], nodes: reports(G3, 1), membersConfig: membersCm(3), now: NOW });
const OPERATOR = { namespace: 'kvs-system', podLabels: { 'app.kubernetes.io/name': 'kvs-operator', 'app.kubernetes.io/instance': 'kvs-operator' } };

describe('operator: the Admin API on its own port, reachable only from the operator', () => {
  it('the node pods serve Admin on the admin port; neither Service exposes it', () => {
    const p = plan(cluster({}, healthyStatus(3)), observed());
    const set = p.apply.find((o) => o.kind === 'StatefulSet') as any;
    const c = set.spec.template.spec.containers[0];
    const args: string[] = c.args;
    assert.equal(args[args.indexOf('--admin-listen') + 1], `0.0.0.0:${PORT_ADMIN}`);
    assert.ok(c.ports.some((x: any) => x.name === 'admin' && x.containerPort === PORT_ADMIN));
    for (const svc of p.apply.filter((o) => o.kind === 'Service') as any[]) {
      assert.ok(!svc.spec.ports.some((x: any) => x.port === PORT_ADMIN || x.targetPort === 'admin'), `${svc.metadata.name} does not expose the admin port`);
    }
  });

  it('with the operator\'s labels set: a NetworkPolicy admits the data, Raft and metrics ports from anywhere and the admin port from the operator only', () => {
    const none = plan(cluster({}, healthyStatus(3)), observed());
    assert.equal(none.apply.filter((o) => o.kind === 'NetworkPolicy').length, 0, 'no policy unless configured');
    const p = plan(cluster({}, healthyStatus(3)), observed(), { adminPeers: OPERATOR });
    const np = p.apply.find((o) => o.kind === 'NetworkPolicy') as any;
    assert.equal(np.apiVersion, 'networking.k8s.io/v1');
    assert.equal(np.metadata.ownerReferences[0].kind, 'KvsCluster');
    assert.deepEqual(np.spec.podSelector.matchLabels, { 'app.kubernetes.io/name': 'kvs', 'app.kubernetes.io/instance': 'demo' });
    assert.deepEqual(np.spec.policyTypes, ['Ingress']);
    const [open, admin] = np.spec.ingress;
    assert.equal(open._from, undefined, 'data/Raft/metrics from anywhere');
    assert.deepEqual(open.ports.map((x: any) => x.port).sort(), [PORT_GRPC, PORT_GRPC + 1]);
    assert.ok(!open.ports.some((x: any) => x.port === PORT_ADMIN));
    assert.deepEqual(admin.ports, [{ protocol: 'TCP', port: PORT_ADMIN }]);
    assert.deepEqual(admin._from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kvs-system' } }, podSelector: { matchLabels: OPERATOR.podLabels } }]);
  });

  it('every child object goes through the client library\'s serializer (what the apply sends) without losing a field', () => {
    // KubernetesObjectApi serializes by the kind's model: a field under its JSON name where the model
    // renames it (NetworkPolicy's `from` is `_from`) is silently dropped — the first e2e run caught that.
    const p = plan(cluster({ tls: { secretName: 'demo-tls' } }, healthyStatus(3)), observed(), { adminPeers: OPERATOR });
    assert.ok(p.apply.length >= 7);
    for (const obj of p.apply) {
      const type = getSerializationType(obj.apiVersion, obj.kind);
      const wire = ObjectSerializer.serialize(obj, type);
      assert.deepEqual(JSON.parse(JSON.stringify(ObjectSerializer.deserialize(wire, type))), JSON.parse(JSON.stringify(obj)), `${obj.kind} ${obj.metadata?.name}`);
    }
    const np = ObjectSerializer.serialize(p.apply.find((o) => o.kind === 'NetworkPolicy'), 'V1NetworkPolicy');
    assert.ok(np.spec.ingress[1].from[0].podSelector, 'the admin rule\'s source reaches the wire as `from`');
    // Negative control: the same policy with a plain `from` loses its source on the way (admitting everyone).
    const plainFrom = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x' }, spec: { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] } };
    assert.equal(ObjectSerializer.serialize(plainFrom, 'V1NetworkPolicy').spec.ingress[0].from, undefined);
  });

  it('the operator dials a pod\'s admin port when the pod has one, its data port otherwise (pods from older templates)', () => {
    const withAdmin = { spec: { containers: [{ name: 'kvs', ports: [{ name: 'grpc', containerPort: PORT_GRPC }, { name: 'admin', containerPort: PORT_ADMIN }] }] }, status: { podIP: '10.0.0.5' } };
    const older = { spec: { containers: [{ name: 'kvs', ports: [{ name: 'grpc', containerPort: PORT_GRPC }] }] }, status: { podIP: '10.0.0.6' } };
    assert.equal(adminAddress(withAdmin), `10.0.0.5:${PORT_ADMIN}`);
    assert.equal(adminAddress(older), `10.0.0.6:${PORT_GRPC}`);
    assert.equal(adminAddress({ spec: withAdmin.spec, status: {} }), undefined);
  });

  it('a NOT_LEADER hint (the leader\'s Kv address) leads to the admin endpoint on the hint\'s host, never to the Kv port', async () => {
    const calls: string[] = [];
    const servers: Array<{ server: grpc.Server; address: string }> = [];
    const serve = async (host: string, answer: (cb: grpc.sendUnaryData<unknown>) => void) => {
      const impl: grpc.UntypedServiceImplementation = {};
      for (const name of Object.keys(adminServiceDefinition())) {
        impl[name] = (_c: unknown, cb: grpc.sendUnaryData<unknown>) => {
          calls.push(host);
          answer(cb);
        };
      }
      const s = await startAdminServer(`${host}:0`, impl);
      servers.push(s);
      return s.address;
    };
    const notLeader = (hint: string) => (cb: grpc.sendUnaryData<unknown>) => cb(toServiceError(new NotLeaderError(3, hint)));
    try {
      const a = await serve('127.0.0.61', notLeader('127.0.0.63:7379'));
      const b = await serve('127.0.0.62', notLeader('127.0.0.63:7379'));
      const c = await serve('127.0.0.63', (cb) => cb(null, { message: 'ok' }));
      const client = new AdminClient([a, b, c], { followAnyLeaderHint: false, timeoutMs: 2000 });
      try {
        assert.equal((await client.call<{ message: string }>('TransferLeader', { raftId: 3 })).message, 'ok');
        assert.deepEqual(calls, ['127.0.0.61', '127.0.0.63'], 'straight from the first endpoint to the hinted host\'s admin endpoint');
      } finally {
        client.close();
      }
      // Negative control: a hint to a host no endpoint is on is not dialed (its Kv port has no Admin);
      // the endpoints are tried in turn.
      calls.length = 0;
      const d = await serve('127.0.0.64', notLeader('127.0.0.99:7379'));
      const client2 = new AdminClient([d, b, c], { followAnyLeaderHint: false, timeoutMs: 2000 });
      try {
        assert.equal((await client2.call<{ message: string }>('TransferLeader', { raftId: 3 })).message, 'ok');
        assert.deepEqual(calls, ['127.0.0.64', '127.0.0.62', '127.0.0.63']);
      } finally {
        client2.close();
      }
    } finally {
      for (const s of servers) s.server.forceShutdown();
    }
  });
});
