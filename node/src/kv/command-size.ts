// Size checks of commands against the largest command one Raft entry can carry (common/raft-limits.ts).
// A request whose command would not fit is refused up front with a typed INVALID_ARGUMENT naming the
// field, the size and the limit — never proposed (an entry followers cannot receive stalls the group).
// Cheap upper bounds first; the exact encoding only when a bound says the command may not fit.
import type { Mutation } from './api.js';
import { encodeCommand, encodedMutationBytes, type Command } from './commands.js';
import { InvalidArgumentError } from './errors.js';

/** A command (batch, transaction write set, ...) larger than one Raft entry can carry. */
export class CommandTooLargeError extends InvalidArgumentError {
  constructor(
    /** The request field that made it too large: `mutations`, `writes`, `command`. */
    readonly field: string,
    readonly bytes: number,
    readonly limit: number,
    what: string,
  ) {
    super(`${field}: ${what} of ${bytes} bytes exceeds the limit of ${limit} bytes one Raft entry can carry (--max-message-bytes minus a framing reserve); split it into smaller requests`);
  }
}

/** Bytes of a command besides its mutations/keys: version, type, flags, ts, session (client id + 2 varints), counts. */
export function commandHeaderBound(cmd: Command): number {
  return 64 + (cmd.session !== undefined ? Buffer.byteLength(cmd.session.clientId) : 0);
}

export function mutationsBytes(ms: Iterable<Mutation>): number {
  let n = 0;
  for (const m of ms) n += encodedMutationBytes(m);
  return n;
}

/**
 * Throws CommandTooLargeError when `cmd` encodes to more than `limit` bytes. `boundBytes` is an upper
 * bound of its encoded size computed by the caller (the exact encoding is only paid above the limit).
 */
export function checkCommandSize(cmd: Command, boundBytes: number, limit: number | undefined, field: string, what: string): void {
  if (limit === undefined || boundBytes <= limit) return;
  const exact = encodeCommand(cmd).length;
  if (exact > limit) throw new CommandTooLargeError(field, exact, limit, what);
}
