// Original file: proto/kv.proto


/**
 * Routing (sharding): the ranges a store holds, with the leader each last knew. Clients use it to send a
 * request straight to its range's leader (no follower hop); any answer may be stale — a request sent to a
 * former leader is still served correctly (forwarded) and the client refreshes.
 */
export interface RoutesRequest {
}

/**
 * Routing (sharding): the ranges a store holds, with the leader each last knew. Clients use it to send a
 * request straight to its range's leader (no follower hop); any answer may be stale — a request sent to a
 * former leader is still served correctly (forwarded) and the client refreshes.
 */
export interface RoutesRequest__Output {
}
