/**
 * The one error class for SOCKS protocol outcomes, and the one table that maps
 * any failure to an RFC 1928 reply code.
 *
 * @module
 */

import { Reply, REPLY_NAMES } from "./protocol/constants.ts";

/**
 * A protocol outcome that ends a SOCKS exchange, carrying the reply code the
 * peer is (or was) told.
 *
 * @example
 * ```ts
 * import { SocksError } from "./errors.ts";
 * import { Reply } from "./protocol/constants.ts";
 * throw new SocksError(Reply.NOT_ALLOWED, "Destination 10.0.0.1 is blocked");
 * ```
 */
export class SocksError extends Error {
  /** The RFC 1928 reply code (`REP`) for this outcome. */
  readonly reply: Reply;

  /**
   * Creates the instance.
   *
   * @param reply The reply code for this outcome.
   * @param message A sentence-case message; never a secret.
   * @param options The underlying cause, if any.
   */
  constructor(reply: Reply, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SocksError";
    this.reply = reply;
  }
}

/**
 * A frame that breaks the protocol's grammar: wrong version, a zero or
 * out-of-range length, a truncated frame. The connection is closed, with the
 * reply the RFC defines for the situation when there is one.
 */
export class ProtocolError extends SocksError {
  /**
   * Creates the instance.
   *
   * @param message What was wrong, quoting the bad value.
   */
  constructor(message: string, reply: Reply = Reply.GENERAL_FAILURE) {
    super(reply, message);
    this.name = "ProtocolError";
  }
}

const _CODE_TO_REPLY: Readonly<Record<string, Reply>> = {
  ECONNREFUSED: Reply.CONNECTION_REFUSED,
  ENETUNREACH: Reply.NETWORK_UNREACHABLE,
  EADDRNOTAVAIL: Reply.NETWORK_UNREACHABLE,
  EHOSTUNREACH: Reply.HOST_UNREACHABLE,
  EHOSTDOWN: Reply.HOST_UNREACHABLE,
  ENOTFOUND: Reply.HOST_UNREACHABLE,
  EAI_NONAME: Reply.HOST_UNREACHABLE,
  EAI_AGAIN: Reply.HOST_UNREACHABLE,
  EAI_FAIL: Reply.HOST_UNREACHABLE,
  EAI_NODATA: Reply.HOST_UNREACHABLE,
  ETIMEDOUT: Reply.TTL_EXPIRED,
  EACCES: Reply.NOT_ALLOWED,
  EPERM: Reply.NOT_ALLOWED,
};

/**
 * Maps any failure to the reply code a client is told. This is the only place
 * that decides it: by class and error code, never by message text.
 *
 * @param error Whatever a command handler threw.
 * @returns The RFC 1928 `REP` byte.
 */
export function replyFor(error: unknown): Reply {
  if (error instanceof SocksError) return error.reply;
  if (error instanceof Deno.errors.ConnectionRefused) {
    return Reply.CONNECTION_REFUSED;
  }
  if (error instanceof Deno.errors.NetworkUnreachable) {
    return Reply.NETWORK_UNREACHABLE;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return Reply.NETWORK_UNREACHABLE;
  }
  if (error instanceof Deno.errors.TimedOut) return Reply.TTL_EXPIRED;
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return Reply.TTL_EXPIRED;
  }
  if (
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotCapable
  ) {
    return Reply.NOT_ALLOWED;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code in _CODE_TO_REPLY) {
    return _CODE_TO_REPLY[code]!;
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
