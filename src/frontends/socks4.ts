/**
 * The SOCKS4/4A front-end: one request (CONNECT or BIND), answered through a
 * responder that sends SOCKS4 replies. The USERID is not a credential, so
 * the request carries no user; the server serves SOCKS4 only without users
 * unless the operator allows it (`allowSocks4WithUsers`).
 *
 * @module
 */

import type { CommandName, Responder } from "../commands/context.ts";
import { writeAll } from "../core/relay.ts";
import { replyFor } from "../core/reply_for.ts";
import { Reply } from "../protocol/constants.ts";
import { ProtocolError, SocksError } from "../protocol/errors.ts";
import {
  encodeSocks4Reply,
  readSocks4Request,
  Socks4Command,
  Socks4Reply,
} from "../protocol/socks4.ts";
import type { Connection, NetAddress } from "../runtime/transport.ts";
import type { FrontEnd, HandshakeProgress } from "./front_end.ts";

const _COMMANDS: Readonly<Record<number, CommandName>> = {
  [Socks4Command.CONNECT]: "connect",
  [Socks4Command.BIND]: "bind",
};

/**
 * Reads a SOCKS4 or SOCKS4A request. A broken request or an unknown command
 * is answered `00 5B` (rejected) before the error is thrown.
 *
 * @throws {SocksError} After the rejection reply.
 */
export const socks4FrontEnd: FrontEnd = async (
  reader,
  conn,
  _settings,
  progress,
) => {
  progress.stage = "request";
  const responder = new Socks4Responder(conn, progress);
  progress.openResponder = responder;
  let request;
  try {
    request = await readSocks4Request(reader);
  } catch (error) {
    if (error instanceof ProtocolError) await responder.fail(error);
    throw error;
  }
  progress.destination = request.destination;
  const command = _COMMANDS[request.command];
  progress.commandLabel = command ??
    `0x${request.command.toString(16).padStart(2, "0")}`;
  if (command === undefined) {
    const error = new SocksError(
      Reply.COMMAND_NOT_SUPPORTED,
      `SOCKS4 command ${progress.commandLabel} is not supported`,
    );
    await responder.fail(error);
    throw error;
  }
  return {
    command,
    destination: request.destination,
    user: null,
    responder,
  };
};

/**
 * Sends SOCKS4 replies: `00 5A` with the bound address for a success (BIND
 * sends two), `00 5B` with a zero address for any failure. The access log
 * and `replies_total` (counted by the session) see the SOCKS5 code the
 * outcome maps to, so every protocol's outcomes read alike.
 */
export class Socks4Responder implements Responder {
  #conn: Connection;
  #progress: HandshakeProgress;
  #replied = false;

  /**
   * Creates the instance.
   *
   * @param conn The client connection.
   * @param progress Records the last reply code for the access log.
   */
  constructor(conn: Connection, progress: HandshakeProgress) {
    this.#conn = conn;
    this.#progress = progress;
  }

  /** Whether the final reply has gone out. */
  get replied(): boolean {
    return this.#replied;
  }

  /** Sends BIND's first reply. */
  interim(bound: NetAddress): Promise<void> {
    if (this.#replied) _alreadyReplied();
    return this.#send(Reply.SUCCEEDED, bound);
  }

  /** Sends the final success reply. */
  succeed(bound: NetAddress): Promise<void> {
    if (this.#replied) _alreadyReplied();
    this.#replied = true;
    return this.#send(Reply.SUCCEEDED, bound);
  }

  /** Sends `00 5B`: SOCKS4 has one code for every failure. */
  fail(error: unknown): Promise<void> {
    if (this.#replied) _alreadyReplied();
    this.#replied = true;
    return this.#send(replyFor(error));
  }

  #send(reply: Reply, bound?: NetAddress): Promise<void> {
    this.#progress.reply = reply;
    return writeAll(
      this.#conn,
      encodeSocks4Reply(
        reply === Reply.SUCCEEDED ? Socks4Reply.GRANTED : Socks4Reply.REJECTED,
        bound ? { host: bound.hostname, port: bound.port } : undefined,
      ),
    );
  }
}

function _alreadyReplied(): never {
  throw new Error("The final reply was already sent");
}
