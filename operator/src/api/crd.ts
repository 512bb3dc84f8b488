// The CustomResourceDefinition of KvsCluster, built from schema.ts.
import { GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION } from './types.js';
import { kvsClusterSchema, printerColumns } from './schema.js';

export const CRD_NAME = `${PLURAL}.${GROUP}`;

export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: { 'app.kubernetes.io/name': 'kvs-operator', 'app.kubernetes.io/part-of': 'kvs' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: SHORT_NAMES, categories: ['kvs'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: kvsClusterSchema },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: printerColumns,
        },
      ],
    },
  };
}
