/**
 * The SOCKS5 front-end: method negotiation (RFC 1928 §3), username/password
 * (RFC 1929) and the request (RFC 1928 §4), then replies (§6) through a
 * responder that sends exactly one final reply.
 *
 * @module
 */

import { acceptGssapi } from "../auth/gssapi_method.ts";
import type { CommandName } from "../commands/context.ts";
import { writeAll } from "../core/relay.ts";
import { toSocksAddress } from "../protocol/address.ts";
import {
  COMMAND_NAMES,
  Method,
  Reply,
  USERPASS_FAILURE,
  USERPASS_SUCCESS,
} from "../protocol/constants.ts";
import { ProtocolError, SocksError } from "../protocol/errors.ts";
import { GSS_ABORT } from "../protocol/gssapi.ts";
import { encodeMethodChoice, readGreeting } from "../protocol/greeting.ts";
import { encodeReply, readRequest } from "../protocol/request.ts";
import {
  encodeUserPassReply,
  readUserPassRequest,
} from "../protocol/userpass.ts";
import type { Connection, NetAddress } from "../runtime/transport.ts";
import type {
  AcceptedRequest,
  FrontEnd,
  FrontEndSettings,
} from "./front_end.ts";
import {
  delayFailedLogin,
  loginAllowed,
  loginFailed,
  loginIp,
} from "./failed_logins.ts";
import { FinalReplyResponder } from "./final_reply.ts";
import type { FrameReader } from "../core/frame_reader.ts";

/**
 * Runs a SOCKS5 handshake: greeting, authentication when users are
 * configured, request.
 *
 * - Method X'00' when no authentication is configured; otherwise X'01'
 *   (GSS-API, RFC 1961, preferred when offered and configured) or X'02'
 *   (username/password); `05 FF` when the client offers none of them.
 * - After GSS-API, the client's principal is the user; at protection level
 *   1 or 2 the request, the replies and all further traffic go through the
 *   protecting connection, which the returned request carries.
 * - A failed login is answered `01 01` (after the configured delay) on the
 *   same path whether the user exists or not.
 * - A broken or unsupported request is answered with its reply (07 for an
 *   unknown command, 08 for an unknown address type, 01 otherwise).
 *
 * @throws {SocksError} After sending the reply the RFC defines for the
 * failure, when there is one.
 */
export const socks5FrontEnd: FrontEnd = async (
  reader,
  conn,
  settings,
  progress,
  signal,
) => {
  const methods = await readGreeting(reader);
  const acceptable: number[] = [];
  if (settings.gssapi) acceptable.push(Method.GSSAPI);
  if (settings.credentials) acceptable.push(Method.USERPASS);
  if (acceptable.length === 0) acceptable.push(Method.NO_AUTH);
  const wanted = acceptable.find((m) => methods.includes(m));
  if (wanted === undefined) {
    await writeAll(conn, encodeMethodChoice(Method.NO_ACCEPTABLE));
    throw new ProtocolError(
      `No acceptable authentication method offered (wanted ${
        _methodList(acceptable)
      }, got ${_methodList(methods)})`,
    );
  }
  await writeAll(conn, encodeMethodChoice(wanted));
  let user: string | null = null;
  let protection: AcceptedRequest["protection"];
  if (wanted === Method.USERPASS) {
    progress.stage = "auth";
    user = await _authenticate(
      reader,
      conn,
      settings,
      signal,
      loginIp(conn, progress),
    );
    progress.user = user;
  } else if (wanted === Method.GSSAPI) {
    progress.stage = "auth";
    const ip = loginIp(conn, progress);
    let gss;
    try {
      // As with passwords: a client IP that failed too often is refused
      // before any context step (each is a decryption against the keytab).
      if (!loginAllowed(settings, ip)) {
        await writeAll(conn, GSS_ABORT);
        throw new SocksError(
          Reply.NOT_ALLOWED,
          "GSS-API authentication refused: too many failed logins",
        );
      }
      gss = await acceptGssapi(reader, conn, settings.gssapi!);
    } catch (error) {
      if (error instanceof SocksError) loginFailed(settings, ip);
      throw error;
    }
    user = gss.principal;
    progress.user = user;
    if (gss.protected) {
      protection = gss.protected;
      progress.own(protection.connection);
      conn = protection.connection;
      reader = protection.reader;
    }
  }
  progress.stage = "request";
  const responder = new Socks5Responder(conn, progress);
  progress.openResponder = responder;
  let request;
  try {
    request = await readRequest(reader);
  } catch (error) {
    // A frame that parsed far enough to be a request gets a reply; the
    // end of the stream or a reset does not.
    if (error instanceof ProtocolError) await responder.fail(error);
    throw error;
  }
  progress.destination = request.destination;
  const name = COMMAND_NAMES[request.command] as CommandName | undefined;
  progress.commandLabel = name ??
    `0x${request.command.toString(16).padStart(2, "0")}`;
  if (name === undefined) {
    const error = new SocksError(
      Reply.COMMAND_NOT_SUPPORTED,
      `Command ${progress.commandLabel} is not supported`,
    );
    await responder.fail(error);
    throw error;
  }
  const accepted: AcceptedRequest = {
    command: name,
    destination: request.destination,
    user,
    responder,
    ...(protection ? { protection } : {}),
  };
  return accepted;
};

async function _authenticate(
  reader: FrameReader,
  conn: Connection,
  settings: FrontEndSettings,
  signal: AbortSignal,
  ip: string,
): Promise<string> {
  let accepted = false;
  let username = "";
  try {
    const credentials = await readUserPassRequest(reader);
    username = credentials.username;
    // A client IP that failed too often is refused without a check: the
    // check of a hashed password is what a guesser would make us pay for.
    if (loginAllowed(settings, ip)) {
      const verdict = settings.credentials!.verify(
        credentials.username,
        credentials.password,
      );
      // Plaintext and warm users answer synchronously; skip the extra turn.
      accepted = typeof verdict === "boolean" ? verdict : await verdict;
    }
    credentials.password.fill(0);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
  }
  if (!accepted) {
    loginFailed(settings, ip);
    await delayFailedLogin(settings, signal);
    await writeAll(conn, encodeUserPassReply(USERPASS_FAILURE));
    // The attempted username is not logged: users sometimes type their
    // password into it.
    throw new SocksError(Reply.NOT_ALLOWED, "Authentication failed");
  }
  await writeAll(conn, encodeUserPassReply(USERPASS_SUCCESS));
  return username;
}

/**
 * Sends SOCKS5 replies: any number of interim successes (BIND's first
 * reply), then exactly one final reply. Every reply is a full RFC 1928
 * reply; a failure carries the all-zero address, a success the real one.
 */
export class Socks5Responder extends FinalReplyResponder {
  protected write(reply: Reply, bound: NetAddress | undefined): Promise<void> {
    return writeAll(
      this.conn,
      encodeReply(
        reply,
        bound ? toSocksAddress(bound.hostname, bound.port) : undefined,
      ),
    );
  }
}

function _methodList(methods: Iterable<number>): string {
  return `[${
    [...methods].map((m) => `0x${m.toString(16).padStart(2, "0")}`).join(", ")
  }]`;
}
