/**
 * The SOCKS4/4A front-end: one request (CONNECT or BIND), answered through a
 * responder that sends SOCKS4 replies. The USERID is not a credential, so
 * the request carries no user; the server serves SOCKS4 only without users
 * unless the operator allows it (`allowSocks4WithUsers`).
 *
 * @module
 */

import type { CommandName } from "../commands/context.ts";
import { writeAll } from "../core/relay.ts";
import { Reply } from "../protocol/constants.ts";
import { ProtocolError, SocksError } from "../protocol/errors.ts";
import {
  encodeSocks4Reply,
  readSocks4Request,
  Socks4Command,
  Socks4Reply,
} from "../protocol/socks4.ts";
import type { NetAddress } from "../runtime/transport.ts";
import { FinalReplyResponder } from "./final_reply.ts";
import type { FrontEnd } from "./front_end.ts";

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
export class Socks4Responder extends FinalReplyResponder {
  protected write(reply: Reply, bound: NetAddress | undefined): Promise<void> {
    return writeAll(
      this.conn,
      encodeSocks4Reply(
        reply === Reply.SUCCEEDED ? Socks4Reply.GRANTED : Socks4Reply.REJECTED,
        bound ? { host: bound.hostname, port: bound.port } : undefined,
      ),
    );
  }
}
