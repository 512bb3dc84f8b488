// Marker for a request message the tolerant decoders (node-server.ts for unary calls, batch-stream.ts for
// sub-requests) could not decode: the handler answers INVALID_ARGUMENT instead of grpc-js' INTERNAL.

/** Key of the marker object passed instead of an undecodable request. */
export const MALFORMED_REQUEST = Symbol('kvs.malformedRequest');
