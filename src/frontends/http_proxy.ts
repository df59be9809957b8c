/**
 * The HTTP proxy front-end: `CONNECT host:port` tunnels and absolute-URI
 * requests (`GET http://host/path`) forwarded in origin-form, with
 * `Proxy-Authorization: Basic` checked against the same credential store as
 * SOCKS5. Both become a CONNECT request for the command table; a forwarded
 * request runs over an {@linkcode HttpForwardConnection}, which rewrites the
 * head and bounds the body.
 *
 * @module
 */

import { writeAll } from "../core/relay.ts";
import { replyFor } from "../core/reply_for.ts";
import { Reply } from "../protocol/constants.ts";
import { ProtocolError } from "../protocol/errors.ts";
import {
  basicProxyCredentials,
  CONNECT_ESTABLISHED,
  encodeOriginRequest,
  encodeStatusResponse,
  type HttpRequestHead,
  HttpStatusError,
  parseProxyTarget,
  parseRequestHead,
  readHeadLines,
  requestBodyFraming,
} from "../protocol/http_proxy.ts";
import type { NetAddress } from "../runtime/transport.ts";
import type { FrontEnd, FrontEndSettings } from "./front_end.ts";
import {
  delayFailedLogin,
  loginAllowed,
  loginFailed,
  loginIp,
} from "./failed_logins.ts";
import { FinalReplyResponder } from "./final_reply.ts";
import { HttpForwardConnection } from "./http_forward.ts";

/** The realm named in `Proxy-Authenticate`. */
const _REALM = "socks5-deno";

const _STATUS_BY_REPLY: Readonly<Record<number, number>> = {
  [Reply.NOT_ALLOWED]: 403,
  [Reply.TTL_EXPIRED]: 504,
  [Reply.COMMAND_NOT_SUPPORTED]: 501,
};

/**
 * The HTTP status a failure is answered with: the status an
 * {@linkcode HttpStatusError} carries, 400 for another broken head, else by
 * its reply code from `replyFor` (02 ruleset → 403, 06 timeout → 504, 07
 * disabled → 501, everything else — refused, unreachable, DNS — 502).
 *
 * @param error Why the request failed.
 * @returns The status code.
 */
export function httpStatusFor(error: unknown): number {
  if (error instanceof HttpStatusError) return error.status;
  if (error instanceof ProtocolError) return 400;
  return _STATUS_BY_REPLY[replyFor(error)] ?? 502;
}

/**
 * Reads one proxy request head, checks credentials when users are
 * configured (407 with `Proxy-Authenticate: Basic` otherwise) and turns it
 * into a CONNECT request.
 *
 * @throws {HttpStatusError} For a request the proxy refuses; the caller
 * answers it through the responder.
 */
export const httpFrontEnd: FrontEnd = async (
  reader,
  conn,
  settings,
  progress,
  signal,
) => {
  const responder = new HttpResponder(conn, progress);
  progress.openResponder = responder;
  progress.stage = "request";
  const head = parseRequestHead(await readHeadLines(reader));
  const target = parseProxyTarget(head);
  progress.commandLabel = "connect";
  progress.destination = target.destination;
  let user: string | null = null;
  // GSS-API alone cannot be spoken here: without users nobody gets in.
  if (settings.credentials || settings.gssapi) {
    progress.stage = "auth";
    user = await _authenticate(
      head,
      settings,
      signal,
      loginIp(conn, progress),
    );
    progress.user = user;
    progress.stage = "request";
  }
  if (target.form === "authority") {
    return {
      command: "connect",
      destination: target.destination,
      user,
      responder,
    };
  }
  const framing = requestBodyFraming(head);
  responder.forwarding = true;
  return {
    command: "connect",
    destination: target.destination,
    user,
    responder,
    client: new HttpForwardConnection(
      conn,
      encodeOriginRequest(head, target),
      reader.rest(),
      framing,
    ),
  };
};

async function _authenticate(
  head: HttpRequestHead,
  settings: FrontEndSettings,
  signal: AbortSignal,
  ip: string,
): Promise<string> {
  const offered = basicProxyCredentials(head);
  let accepted = false;
  // The same failed-login throttle as SOCKS5: a client IP that failed too
  // often is refused without a check.
  if (
    offered && settings.credentials &&
    loginAllowed(settings, ip)
  ) {
    const verdict = settings.credentials!.verify(
      offered.username,
      offered.password,
    );
    accepted = typeof verdict === "boolean" ? verdict : await verdict;
    offered.password.fill(0);
  }
  if (accepted) return offered!.username;
  loginFailed(settings, ip);
  await delayFailedLogin(settings, signal);
  throw new HttpStatusError(
    407,
    offered ? "Authentication failed" : "Proxy credentials required",
    {
      reply: Reply.NOT_ALLOWED,
      fields: [["Proxy-Authenticate", `Basic realm="${_REALM}"`]],
    },
  );
}

/**
 * Answers an HTTP proxy request: `200 Connection established` for a tunnel,
 * nothing for a forwarded request (the origin's response is the answer),
 * and a complete status response with `Connection: close` for a failure.
 * The access log and `replies_total` (counted by the session) see the
 * neutral (SOCKS5) reply code.
 */
export class HttpResponder extends FinalReplyResponder {
  /** Set for a forwarded request: success is the origin's response. */
  forwarding = false;

  /** HTTP has no interim reply (no BIND). */
  override interim(): Promise<void> {
    throw new Error("HTTP proxy requests have no interim reply");
  }

  /**
   * Writes `200` for a tunnel, nothing for a forwarded request, or the
   * failure's status (see {@linkcode httpStatusFor}).
   */
  protected write(
    reply: Reply,
    _bound: NetAddress | undefined,
    error: unknown,
  ): Promise<void> {
    if (reply === Reply.SUCCEEDED) {
      if (this.forwarding) return Promise.resolve();
      return writeAll(this.conn, CONNECT_ESTABLISHED);
    }
    return writeAll(
      this.conn,
      encodeStatusResponse(
        httpStatusFor(error),
        error instanceof HttpStatusError ? error.fields : [],
      ),
    );
  }
}
