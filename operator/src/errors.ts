// Typed operator errors and the one place that maps any error to a requeue decision.
// Codes are fixed strings (grpc-js / undici style): match on `code`, not on messages.

export type ErrorCode = 'Conflict' | 'NotFound' | 'Transient' | 'Forbidden' | 'Invalid' | 'InvalidSpec' | 'MembershipStep' | 'Internal';

export class OperatorError extends Error {
  override name = 'OperatorError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** HTTP status of the Kubernetes API response, when there was one. */
    readonly httpStatus?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 409: someone else changed the object; retry soon with fresh state. */
export class ConflictError extends OperatorError {
  override name = 'ConflictError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('Conflict', message, 409, options);
  }
}
/** 404: the object is gone; nothing to retry (owner references clean children up). */
export class NotFoundError extends OperatorError {
  override name = 'NotFoundError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('NotFound', message, 404, options);
  }
}
/** 429 / 5xx / network: retry with exponential backoff. */
export class TransientError extends OperatorError {
  override name = 'TransientError';
  constructor(message: string, httpStatus?: number, options?: { cause?: unknown }) {
    super('Transient', message, httpStatus, options);
  }
}
/** 401/403: RBAC is missing something; retry slowly and say so loudly. */
export class ForbiddenError extends OperatorError {
  override name = 'ForbiddenError';
  constructor(message: string, httpStatus = 403, options?: { cause?: unknown }) {
    super('Forbidden', message, httpStatus, options);
  }
}
/** 400/422: the API server rejected an object the operator built: a bug or a version skew. */
export class InvalidObjectError extends OperatorError {
  override name = 'InvalidObjectError';
  constructor(message: string, httpStatus = 422, options?: { cause?: unknown }) {
    super('Invalid', message, httpStatus, options);
  }
}
/** The user's spec cannot be acted on; no retry until the spec changes (a watch event requeues it). */
export class InvalidSpecError extends OperatorError {
  override name = 'InvalidSpecError';
  constructor(message: string) {
    super('InvalidSpec', message);
  }
}

/**
 * A membership step (AddLearner, Promote, ...) failed on the nodes. The pass itself completed (objects,
 * status and a MembershipStepFailed event are written), so the reconciler reports it in its result
 * rather than throwing; the work queue still treats it as a failure: exponential backoff, never faster
 * than MEMBERSHIP_RETRY_MIN_MS, so a step that keeps failing cannot spin.
 */
export class MembershipStepError extends OperatorError {
  override name = 'MembershipStepError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('MembershipStep', message, undefined, options);
  }
}

export type RequeueDecision =
  | { requeue: 'none'; reason: ErrorCode }
  | { requeue: 'backoff'; reason: ErrorCode; minMs?: number }
  | { requeue: 'after'; afterMs: number; reason: ErrorCode };

/** Slow retry for errors a human has to fix (RBAC, rejected objects). */
export const SLOW_RETRY_MS = 60_000;

/** First retry of a failed membership step (the node may just be electing a leader). */
export const MEMBERSHIP_RETRY_MIN_MS = 2_000;

/** The single mapping from errors to what the work queue does with the key. */
export function requeueDecision(err: unknown): RequeueDecision {
  const e = toOperatorError(err);
  switch (e.code) {
    case 'NotFound':
    case 'InvalidSpec':
      return { requeue: 'none', reason: e.code };
    case 'Conflict':
    case 'Transient':
    case 'Internal':
      return { requeue: 'backoff', reason: e.code };
    case 'MembershipStep':
      return { requeue: 'backoff', reason: e.code, minMs: MEMBERSHIP_RETRY_MIN_MS };
    case 'Forbidden':
    case 'Invalid':
      return { requeue: 'after', afterMs: SLOW_RETRY_MS, reason: e.code };
  }
}

interface ApiExceptionLike {
  code?: unknown;
  body?: unknown;
  message?: string;
}

function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.slice(0, 500);
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return undefined;
}

/** Wraps an API client exception (client-node ApiException: `code` = HTTP status, `body` = Status) or any error. */
export function toOperatorError(err: unknown, what = 'request'): OperatorError {
  if (err instanceof OperatorError) return err;
  const e = (err ?? {}) as ApiExceptionLike & { cause?: unknown };
  const http = typeof e.code === 'number' ? e.code : undefined;
  const msg = `${what}: ${statusMessage(e.body) ?? e.message ?? String(err)}`;
  if (http === undefined) {
    const sysCode = typeof e.code === 'string' ? e.code : undefined;
    if (sysCode && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|UND_ERR)/.test(sysCode)) return new TransientError(msg, undefined, { cause: err });
    if (err instanceof TypeError && /fetch failed/i.test(String(e.message))) return new TransientError(msg, undefined, { cause: err });
    return new OperatorError('Internal', msg, undefined, { cause: err });
  }
  if (http === 409) return new ConflictError(msg, { cause: err });
  if (http === 404 || http === 410) return new NotFoundError(msg, { cause: err });
  if (http === 401 || http === 403) return new ForbiddenError(msg, http, { cause: err });
  if (http === 400 || http === 422) return new InvalidObjectError(msg, http, { cause: err });
  // Server-side apply answers an object with a field its schema does not know (e.g. a typo inside
  // spec.affinity, which is passed through) with 500 "failed to create typed patch object": not an
  // API server problem, and retrying it fast will never help.
  if (http === 500 && /failed to create typed patch object/.test(msg)) return new InvalidObjectError(msg, http, { cause: err });
  if (http === 429 || http >= 500) return new TransientError(msg, http, { cause: err });
  return new OperatorError('Internal', msg, http, { cause: err });
}
