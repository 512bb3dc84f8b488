// How the nodes speak TLS, and how the operator turns TLS on or off in a running cluster. Pure.
//
// A node runs in one of three modes: plain (no TLS), transition (--tls-transition: TLS offered, plaintext
// still accepted, plaintext fallback when dialing a peer without TLS) and tls (mutual TLS only). Two
// nodes can always talk when their modes are equal or adjacent; plain and tls cannot. So a cluster moves
// between plain and tls through a full roll to transition: the pod template gets `transition` while any
// pod still runs the far mode, and the target mode only once no pod does. Every pod carries the mode it
// was created with (ANNOTATION_TLS_MODE), so the decision is re-derived from the observed pods on every
// pass and an operator killed mid-way resumes where the pods are.
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { TlsSpec } from '../api/types.js';

export type TlsMode = 'plain' | 'transition' | 'tls';
/** Pod template annotation: the TLS mode the pod's node was started in. */
export const ANNOTATION_TLS_MODE = 'kvs.dev/tls-mode';
/** The name of the pod volume holding the TLS Secret (children.ts mounts it). */
export const TLS_VOLUME = 'tls';

const env = (spec: { containers?: Array<{ env?: Array<{ name: string; value?: string }> }> } | undefined, name: string): string | undefined =>
  spec?.containers?.[0]?.env?.find((e) => e.name === name)?.value;

/** The mode a pod's node runs in: its annotation, or (pods from before the annotation) its environment. */
export function podTlsMode(pod: Pick<V1Pod, 'metadata' | 'spec'>): TlsMode {
  const a = pod.metadata?.annotations?.[ANNOTATION_TLS_MODE];
  if (a === 'plain' || a === 'transition' || a === 'tls') return a;
  if (env(pod.spec, 'KVS_CERT_FILE') === undefined) return 'plain';
  return env(pod.spec, 'KVS_TLS_TRANSITION') === 'true' ? 'transition' : 'tls';
}

/** The TLS settings a pod (or pod template) was created with, when it has TLS: to keep serving a transition off TLS. */
export function tlsOfTemplate(spec: V1StatefulSet['spec'] | undefined): TlsSpec | undefined {
  const pod = spec?.template?.spec;
  const secretName = pod?.volumes?.find((v) => v.name === TLS_VOLUME)?.secret?.secretName;
  if (!secretName || env(pod, 'KVS_CERT_FILE') === undefined) return undefined;
  const list = (n: string) => env(pod, n)?.split(',').filter((s) => s.length > 0);
  const admin = list('KVS_ADMIN_IDENTITIES');
  const peer = list('KVS_PEER_IDENTITIES');
  const transition = env(pod, 'KVS_TLS_TRANSITION') === 'true';
  return { secretName, ...(admin?.length ? { adminIdentities: admin } : {}), ...(peer?.length ? { peerIdentities: peer } : {}), ...(transition ? { transition } : {}) };
}

export interface TlsDecision {
  /** What the pod template gets (undefined: plaintext). */
  tls: TlsSpec | undefined;
  mode: TlsMode;
  /** Set while the operator holds the cluster in transition on its own (not spec.tls.transition). */
  transition?: { from: TlsMode; to: TlsMode; message: string };
}

/**
 * The TLS settings for the pod template, from the spec and the modes of the existing pods.
 * `previous`: the TLS settings the current template has (to run the transition roll when spec.tls is
 * removed; without them — nothing to go back through — the spec is followed as it is).
 */
export function decideTls(desired: TlsSpec | undefined, podModes: readonly TlsMode[], previous: TlsSpec | undefined, settled = true): TlsDecision {
  const target: TlsMode = desired === undefined ? 'plain' : desired.transition ? 'transition' : 'tls';
  const far: TlsMode | undefined = target === 'tls' ? 'plain' : target === 'plain' ? 'tls' : undefined;
  const behind = far === undefined ? 0 : podModes.filter((m) => m === far).length;
  // Leaving transition needs every pod seen: a pod the cache does not show yet (being recreated, or
  // created from a template revision the StatefulSet controller had not caught up with) may run the far mode.
  if (far !== undefined && behind === 0 && !settled && previous?.transition === true) {
    return { tls: { ...(desired ?? previous), transition: true }, mode: 'transition', transition: { from: 'transition', to: target, message: `turning TLS ${target === 'tls' ? 'on' : 'off'}: waiting until every pod of the StatefulSet is observed before leaving transition` } };
  }
  if (behind === 0) return { tls: desired, mode: target };
  const material = desired ?? previous;
  if (material === undefined) return { tls: desired, mode: target };
  const from = far!;
  return {
    tls: { ...material, transition: true },
    mode: 'transition',
    transition: {
      from,
      to: target,
      message: `turning TLS ${target === 'tls' ? 'on' : 'off'}: ${behind} of ${podModes.length} node(s) still run ${from}; every node restarts in transition (TLS and plaintext accepted) before any runs ${target}`,
    },
  };
}

/** The mode a pod template with these settings runs its nodes in. */
export function modeOf(tls: TlsSpec | undefined): TlsMode {
  return tls === undefined ? 'plain' : tls.transition ? 'transition' : 'tls';
}

/** The cluster's mode as the pods show it: one mode, or transition while they differ. */
export function clusterTlsMode(podModes: readonly TlsMode[]): TlsMode | undefined {
  if (podModes.length === 0) return undefined;
  return podModes.every((m) => m === podModes[0]) ? podModes[0] : 'transition';
}
