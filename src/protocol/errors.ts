/**
 * The errors protocol outcomes are reported with: one class carrying the
 * reply code, a subclass for broken frames, and the end of a stream in the
 * middle of a frame.
 *
 * @module
 */

import { Reply } from "./constants.ts";

/**
 * A protocol outcome that ends a SOCKS exchange, carrying the reply code the
 * peer is (or was) told.
 *
 * @example
 * ```ts
 * import { SocksError } from "./errors.ts";
 * import { Reply } from "./constants.ts";
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
   * @param reply The reply the RFC defines for it, if the frame is a request.
   */
  constructor(message: string, reply: Reply = Reply.GENERAL_FAILURE) {
    super(reply, message);
    this.name = "ProtocolError";
  }
}

/** The stream ended before a frame was complete. */
export class UnexpectedEofError extends Error {
  /**
   * Creates the instance.
   *
   * @param message How many bytes were missing.
   */
  constructor(message: string) {
    super(message);
    this.name = "UnexpectedEofError";
  }
}
