/**
 * The reply rule every front-end shares: interim successes (BIND's first
 * reply) any number of times, then exactly one final reply, success or
 * failure, with the neutral reply code recorded for the access log and the
 * metrics. A protocol supplies only how a reply is written on its wire.
 *
 * @module
 */

import type { Responder } from "../commands/context.ts";
import { replyFor } from "../core/reply_for.ts";
import { Reply } from "../protocol/constants.ts";
import type { Connection, NetAddress } from "../runtime/transport.ts";
import type { HandshakeProgress } from "./front_end.ts";

/** A responder that allows one final reply; subclasses write the bytes. */
export abstract class FinalReplyResponder implements Responder {
  /** The client connection replies go to. */
  protected readonly conn: Connection;
  #progress: HandshakeProgress;
  #replied = false;

  /**
   * Creates the instance.
   *
   * @param conn The client connection.
   * @param progress Records the last reply code for the access log and
   * the metrics (the session counts the final reply when it ends).
   */
  constructor(conn: Connection, progress: HandshakeProgress) {
    this.conn = conn;
    this.#progress = progress;
  }

  /** Whether the final reply has gone out. */
  get replied(): boolean {
    return this.#replied;
  }

  /** Sends a success reply after which another reply follows. */
  interim(bound: NetAddress): Promise<void> {
    if (this.#replied) _alreadyReplied();
    this.#progress.reply = Reply.SUCCEEDED;
    return this.write(Reply.SUCCEEDED, bound, null);
  }

  /** Sends the final success reply. */
  succeed(bound: NetAddress): Promise<void> {
    this.#final(Reply.SUCCEEDED);
    return this.write(Reply.SUCCEEDED, bound, null);
  }

  /** Sends the final failure reply, coded by `replyFor`. */
  fail(error: unknown): Promise<void> {
    const reply = replyFor(error);
    this.#final(reply);
    return this.write(reply, undefined, error);
  }

  /**
   * Writes one reply in the protocol's form.
   *
   * @param reply The neutral (SOCKS5) reply code.
   * @param bound The address to report, for a success.
   * @param error Why it failed, for a failure; `null` for a success.
   */
  protected abstract write(
    reply: Reply,
    bound: NetAddress | undefined,
    error: unknown,
  ): Promise<void>;

  #final(reply: Reply): void {
    if (this.#replied) _alreadyReplied();
    this.#replied = true;
    this.#progress.reply = reply;
  }
}

function _alreadyReplied(): never {
  throw new Error("The final reply was already sent");
}
