// Test hook: simulate lost replies. The request reaches the server and is fully processed, but the
// client discards the reply and sees UNAVAILABLE, exactly as if the connection dropped after the server
// answered. Used by tests to prove that session retries never apply a write twice. Unary calls are
// intercepted (interceptor()); over BatchStream the stream transport drops single sub-responses.
import { InterceptingCall, Metadata, status as GrpcStatus, type Interceptor } from '@grpc/grpc-js';

export interface LostReplyOptions {
  /** Drop the replies of the next N matching calls. */
  dropNext?: number;
  /** Drop each matching reply with this probability (0..1). */
  probability?: number;
  /** Only calls to these methods (short names such as 'Put', 'Batch', 'Commit'); default: all. */
  methods?: string[];
  /** Random source in [0,1) (seeded PRNG for reproducible tests); default Math.random. */
  random?: () => number;
  /**
   * Called when a reply is dropped (after the server answered); the client sees UNAVAILABLE only once the
   * returned promise settles — e.g. restart the server in between to test retries across a restart.
   */
  onDrop?: (method: string) => Promise<unknown> | void;
  /**
   * Stream transport only: swallow the dropped sub-response without telling the client, so the attempt
   * ends by its own deadline (DEADLINE_EXCEEDED) — the path a reply lost in the network would take.
   * Default false: the client sees UNAVAILABLE at once, like a unary call whose reply was lost.
   */
  silent?: boolean;
}

export class LostReplyInjector {
  private dropNextN: number;
  private probability: number;
  private methods: Set<string> | undefined;
  private readonly random: () => number;
  private readonly onDrop: LostReplyOptions['onDrop'];
  /** See LostReplyOptions.silent. */
  readonly silent: boolean;
  /** Replies dropped so far, by method. */
  readonly dropped = new Map<string, number>();
  /** Calls seen by the interceptor, by method. */
  readonly seen = new Map<string, number>();

  constructor(opts: LostReplyOptions = {}) {
    this.dropNextN = opts.dropNext ?? 0;
    this.probability = opts.probability ?? 0;
    this.methods = opts.methods ? new Set(opts.methods) : undefined;
    this.random = opts.random ?? Math.random;
    this.onDrop = opts.onDrop;
    this.silent = opts.silent ?? false;
  }

  /** Runs the onDrop hook of a dropped reply; the caller reports the loss once the result settles. */
  runOnDrop(method: string): Promise<unknown> | void {
    return this.onDrop?.(method);
  }

  /** Drops the replies of the next `n` matching calls. */
  dropNext(n: number, methods?: string[]): void {
    this.dropNextN = n;
    if (methods) this.methods = new Set(methods);
  }

  setProbability(p: number, methods?: string[]): void {
    this.probability = p;
    if (methods) this.methods = new Set(methods);
  }

  /** Stops injecting. */
  disable(): void {
    this.dropNextN = 0;
    this.probability = 0;
  }

  get totalDropped(): number {
    let n = 0;
    for (const v of this.dropped.values()) n += v;
    return n;
  }

  /** Decides for one call (exposed for tests of the injector itself). */
  shouldDrop(method: string): boolean {
    this.seen.set(method, (this.seen.get(method) ?? 0) + 1);
    if (this.methods && !this.methods.has(method)) return false;
    let drop = false;
    if (this.dropNextN > 0) {
      this.dropNextN--;
      drop = true;
    } else if (this.probability > 0 && this.random() < this.probability) {
      drop = true;
    }
    if (drop) this.dropped.set(method, (this.dropped.get(method) ?? 0) + 1);
    return drop;
  }

  /** The grpc-js client interceptor implementing the hook. */
  interceptor(): Interceptor {
    return (options, nextCall) => {
      const path = options.method_definition.path; // "/kvs.v1.Kv/Put"
      const method = path.slice(path.lastIndexOf('/') + 1);
      // The stream transport decides per sub-response (client/stream-transport.ts), not per stream.
      if (method === 'BatchStream') return new InterceptingCall(nextCall(options));
      return new InterceptingCall(nextCall(options), {
        start: (metadata, listener, next) => {
          if (!this.shouldDrop(method)) {
            next(metadata, listener);
            return;
          }
          next(metadata, {
            // Each step must still call next(): grpc-js holds the status back until metadata and message
            // were passed on. Empty metadata and a null message reach the call; the status decides.
            onReceiveMetadata: (_md, nextMd) => nextMd(new Metadata()),
            onReceiveMessage: (_msg, nextMsg) => nextMsg(null),
            onReceiveStatus: (_status, nextStatus) => {
              // Whatever the server answered (success or error) is lost.
              const lost = () => nextStatus({ code: GrpcStatus.UNAVAILABLE, details: 'reply lost (kvs test hook: LostReplyInjector)', metadata: new Metadata() });
              const hold = this.onDrop?.(method);
              if (hold) void Promise.resolve(hold).then(lost, lost);
              else lost();
            },
          });
        },
      });
    };
  }
}
