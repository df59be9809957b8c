/**
 * The server side of the GSS-API method (RFC 1961): context establishment
 * (§3), the protection-level sub-negotiation (§4), and the connection the
 * rest of the session runs over (§5).
 *
 * @module
 */

import {
  type DatagramProtection,
  gssDatagramProtection,
  GssProtectedConnection,
} from "../core/gss_protected_connection.ts";
import { FrameReader } from "../core/frame_reader.ts";
import { writeAll } from "../core/relay.ts";
import { Reply } from "../protocol/constants.ts";
import { ProtocolError, SocksError } from "../protocol/errors.ts";
import {
  encodeGssFrame,
  GSS_ABORT,
  GssMessageType,
  GssProtection,
  readGssToken,
} from "../protocol/gssapi.ts";
import { type GssCredential, GssError } from "../runtime/gssapi.ts";
import type { Connection } from "../runtime/transport.ts";

/** What a server needs to accept the GSS-API method. */
export interface GssServerSettings {
  /** Acceptor credentials from the configured keytab. */
  readonly credential: GssCredential;
  /**
   * The service name clients must have asked a ticket for: the first
   * component of the acceptor principal (`rcmd` in
   * `rcmd/proxy.example@REALM`).
   */
  readonly service: string;
  /**
   * The protection levels the server agrees to, among 0 (none, which curl
   * asks for), 1 (integrity) and 2 (confidentiality).
   */
  readonly protection: readonly GssProtection[];
}

/** An authenticated GSS-API client. */
export interface GssAccepted {
  /** The client's principal, `alice@EXAMPLE.COM`: the session's user. */
  principal: string;
  /** The agreed protection level. */
  level: GssProtection;
  /**
   * Where the session continues: a protecting connection and a reader over
   * it when the level is 1 or 2; `null` at level 0 (the raw connection and
   * the original reader go on).
   */
  protected: {
    connection: Connection;
    reader: FrameReader;
    datagrams: DatagramProtection;
  } | null;
}

/** More round trips than Kerberos (one) or SPNEGO (two or three) needs. */
const _MAX_ROUNDS = 8;

/**
 * Runs the GSS-API method after X'01' was chosen.
 *
 * Any failure (a token the library refuses, a ticket for another service, a
 * broken message) is answered with the abort message `01 ff`, after which
 * the caller closes the connection. Tokens are never logged; the errors
 * carry the library's description, which names principals only.
 *
 * @param reader The connection's frame reader.
 * @param conn The client connection.
 * @param settings Credentials, service and protection policy.
 * @returns The principal and where the session continues.
 * @throws {SocksError} With REP X'02' (not allowed) after the abort, or
 * `UnexpectedEofError` when the client left mid-exchange.
 */
export async function acceptGssapi(
  reader: FrameReader,
  conn: Connection,
  settings: GssServerSettings,
): Promise<GssAccepted> {
  const context = settings.credential.accept();
  let handedOver = false;
  try {
    const principal = await _establish(reader, conn, context, settings);
    const requested = await _readLevel(reader, conn, context);
    const level = chooseProtection(requested, settings.protection);
    const answer = context.wrap(Uint8Array.of(level), false);
    await writeAll(conn, encodeGssFrame(GssMessageType.PROTECTION, answer));
    if (level === GssProtection.NONE) {
      return { principal, level, protected: null };
    }
    const wrapping = level === GssProtection.INTEGRITY
      ? GssProtection.INTEGRITY
      : GssProtection.CONFIDENTIALITY;
    const connection = new GssProtectedConnection(
      conn,
      context,
      wrapping,
      reader.rest(),
    );
    handedOver = true;
    return {
      principal,
      level,
      protected: {
        connection,
        reader: new FrameReader(connection),
        datagrams: gssDatagramProtection(context, wrapping),
      },
    };
  } finally {
    // Level 0 needs the context no more; a protected connection owns it.
    if (!handedOver) context.close();
  }
}

/**
 * The server's answer to a requested protection level: the level itself
 * when the policy allows it; for selective protection (3), which needs
 * per-message choices this server does not make, the strongest allowed of
 * 2 and 1; otherwise the nearest allowed level above, else the strongest
 * allowed (the client closes when that is not good enough).
 *
 * @param requested The client's level.
 * @param allowed The policy's levels, non-empty.
 * @returns The level to answer.
 */
export function chooseProtection(
  requested: number,
  allowed: readonly GssProtection[],
): GssProtection {
  if (requested !== GssProtection.SELECTIVE) {
    const exact = allowed.find((level) => level === requested);
    if (exact !== undefined) return exact;
  }
  const sorted = [...allowed].sort((a, b) => a - b);
  const above = sorted.find((level) => level > requested);
  if (above !== undefined && requested !== GssProtection.SELECTIVE) {
    return above;
  }
  return sorted[sorted.length - 1]!;
}

async function _establish(
  reader: FrameReader,
  conn: Connection,
  context: ReturnType<GssCredential["accept"]>,
  settings: GssServerSettings,
): Promise<string> {
  for (let round = 0; round < _MAX_ROUNDS; round++) {
    const token = await _guard(
      conn,
      () => readGssToken(reader, GssMessageType.CONTEXT),
    );
    const step = await _guard(conn, () => context.step(token));
    if (step.output) {
      await writeAll(
        conn,
        encodeGssFrame(GssMessageType.CONTEXT, step.output),
      );
    }
    if (!step.complete) continue;
    const target = await _guard(
      conn,
      () => Promise.resolve(context.targetName()),
    );
    const service = target.split("/")[0]!.split("@")[0]!;
    if (service !== settings.service) {
      await _abort(conn);
      throw new SocksError(
        Reply.NOT_ALLOWED,
        `GSS-API authentication failed: ticket is for service ${
          JSON.stringify(service)
        }, not ${JSON.stringify(settings.service)}`,
      );
    }
    return await _guard(conn, () => Promise.resolve(context.peerName()));
  }
  await _abort(conn);
  throw new SocksError(
    Reply.NOT_ALLOWED,
    `GSS-API authentication failed: no context after ${_MAX_ROUNDS} rounds`,
  );
}

async function _readLevel(
  reader: FrameReader,
  conn: Connection,
  context: ReturnType<GssCredential["accept"]>,
): Promise<number> {
  const token = await _guard(
    conn,
    () => readGssToken(reader, GssMessageType.PROTECTION),
  );
  const opened = await _guard(
    conn,
    () => Promise.resolve(context.unwrap(token)),
  );
  if (opened.data.length !== 1 || opened.supplementary !== 0) {
    await _abort(conn);
    throw new SocksError(
      Reply.NOT_ALLOWED,
      `GSS-API protection negotiation failed: expected one sealed octet, got ${opened.data.length}`,
    );
  }
  return opened.data[0]!;
}

/**
 * Runs one step; a refusal by the library or a broken message becomes the
 * abort and a REP X'02' error. The end of the stream passes through.
 */
async function _guard<T>(conn: Connection, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof GssError || error instanceof ProtocolError) {
      // A client that sent the abort itself gets none back.
      if (error.name !== "GssAbortError") await _abort(conn);
      throw new SocksError(
        Reply.NOT_ALLOWED,
        `GSS-API authentication failed: ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  }
}

async function _abort(conn: Connection): Promise<void> {
  try {
    await writeAll(conn, GSS_ABORT);
  } catch {
    // The client is gone; closing is all that is left.
  }
}
