/**
 * The one table that maps any failure to an RFC 1928 reply code.
 *
 * @module
 */

import { Reply, REPLY_NAMES } from "../protocol/constants.ts";
import { SocksError } from "../protocol/errors.ts";
import { NetError, type NetErrorKind } from "../runtime/net_error.ts";

const _REPLY_BY_KIND: Readonly<Record<NetErrorKind, Reply>> = {
  refused: Reply.CONNECTION_REFUSED,
  network_unreachable: Reply.NETWORK_UNREACHABLE,
  // The address cannot be used from here: no route to it, in effect.
  address_unavailable: Reply.NETWORK_UNREACHABLE,
  host_unreachable: Reply.HOST_UNREACHABLE,
  timed_out: Reply.TTL_EXPIRED,
  permission_denied: Reply.NOT_ALLOWED,
  address_in_use: Reply.GENERAL_FAILURE,
  aborted: Reply.GENERAL_FAILURE,
  exhausted: Reply.GENERAL_FAILURE,
  closed: Reply.GENERAL_FAILURE,
  other: Reply.GENERAL_FAILURE,
};

/**
 * Maps any failure to the reply code a client is told. This is the only place
 * that decides it: by class and error kind, never by message text.
 *
 * - {@linkcode SocksError}: its own reply (ruleset refusals, DNS failures,
 *   unsupported commands, broken frames);
 * - {@linkcode NetError}: by kind (refused → 05, unreachable → 03/04,
 *   timed out → 06, permission denied → 02);
 * - a `TimeoutError` (`DOMException`, the reason of a deadline's abort) → 06;
 * - anything else → 01.
 *
 * @example
 * ```ts
 * import { replyFor } from "./reply_for.ts";
 * import { NetError } from "../runtime/net_error.ts";
 * replyFor(new NetError("refused", "Connection refused")); // 0x05
 * ```
 *
 * @param error Whatever a command handler threw.
 * @returns The RFC 1928 `REP` byte.
 */
export function replyFor(error: unknown): Reply {
  if (error instanceof SocksError) return error.reply;
  if (error instanceof NetError) return _REPLY_BY_KIND[error.kind];
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return Reply.TTL_EXPIRED;
  }
  return Reply.GENERAL_FAILURE;
}

/**
 * Describes a reply code for people.
 *
 * @param reply A `REP` byte.
 * @returns Its RFC name, or `unassigned reply 0x..` for unknown bytes.
 */
export function describeReply(reply: number): string {
  return REPLY_NAMES[reply] ??
    `unassigned reply 0x${reply.toString(16).padStart(2, "0")}`;
}
