// Original file: proto/kv.proto


/**
 * Routing (sharding): every range of the cluster as the meta directory knows it (the store's replica of
 * the meta range), with the store's own replicas' fresher views laid over it: bounds, epoch, replicas and
 * leader. Clients use it to send a request straight to its range's leader (no follower hop); any answer
 * may be stale — a request sent to a former leader is still served correctly (forwarded) and the client
 * refreshes.
 */
export interface RoutesRequest {
  /**
   * the meta directory alone, without the store's own replicas' views
   */
  'directoryOnly'?: (boolean);
}

/**
 * Routing (sharding): every range of the cluster as the meta directory knows it (the store's replica of
 * the meta range), with the store's own replicas' fresher views laid over it: bounds, epoch, replicas and
 * leader. Clients use it to send a request straight to its range's leader (no follower hop); any answer
 * may be stale — a request sent to a former leader is still served correctly (forwarded) and the client
 * refreshes.
 */
export interface RoutesRequest__Output {
  /**
   * the meta directory alone, without the store's own replicas' views
   */
  'directoryOnly': (boolean);
}
