/**
 * The client side of the GSS-API method (RFC 1961): context establishment
 * with the proxy's service principal, the protection-level request, and the
 * protecting connection the request and all further traffic then use.
 *
 * @module
 */

import { closeQuietly } from "../core/close_quietly.ts";
import { FrameReader } from "../core/frame_reader.ts";
import {
  type DatagramProtection,
  gssDatagramProtection,
  GssProtectedConnection,
} from "../core/gss_protected_connection.ts";
import { writeAll } from "../core/relay.ts";
import { Reply } from "../protocol/constants.ts";
import { SocksError } from "../protocol/errors.ts";
import {
  encodeGssFrame,
  GssAbortError,
  GssMessageType,
  GssProtection,
  readGssToken,
} from "../protocol/gssapi.ts";
import type { GssApi, GssContext } from "../runtime/gssapi.ts";
import type { Connection } from "../runtime/transport.ts";

/** How the client authenticates with GSS-API. */
export interface GssClientOptions {
  /** The loaded GSS-API (`loadGssapi()` of the runtime's entry point). */
  api: GssApi;
  /**
   * The proxy's service name.
   * @default {"rcmd"}
   */
  service?: string;
  /**
   * The proxy's host name in its service principal (`rcmd/HOST@REALM`).
   * @default {the proxy's hostname option}
   */
  host?: string;
  /**
   * The credential cache with the user's tickets.
   * @default {the library's default (`KRB5CCNAME`)}
   */
  ccache?: string;
  /**
   * The protection level to ask for: 0 none, 1 integrity, 2
   * confidentiality. A proxy answering a lower level is refused.
   * @default {2}
   */
  protection?: 0 | 1 | 2;
}

/** Where the handshake continues after the method. */
export interface GssInitiated {
  /** The agreed level. */
  level: GssProtection;
  /** The connection for the request and the traffic (protected at 1, 2). */
  conn: Connection;
  /** Reads the reply from `conn`, never past it. */
  reader: FrameReader;
  /** How UDP datagrams are sealed; `null` at level 0. */
  datagrams: DatagramProtection | null;
}

/**
 * Runs the GSS-API method after the proxy chose X'01'.
 *
 * @param reader The raw connection's reader (non-greedy).
 * @param conn The raw connection.
 * @param options The API, names and the level to ask for.
 * @param proxyHost The proxy's hostname, the default principal host.
 * @returns The agreed level and where to continue.
 * @throws {SocksError} With REP X'02' when the proxy aborts or answers a
 * lower level than asked for; `GssError` when the library cannot start
 * (no tickets, unknown service).
 */
export async function initiateGssapi(
  reader: FrameReader,
  conn: Connection,
  options: GssClientOptions,
  proxyHost: string,
): Promise<GssInitiated> {
  const credential = await options.api.initiator(
    options.ccache === undefined ? {} : { ccache: options.ccache },
  );
  let context: GssContext;
  try {
    context = credential.initiate({
      target: `${options.service ?? "rcmd"}@${options.host ?? proxyHost}`,
    });
  } catch (error) {
    credential.close();
    throw error;
  }
  let handedOver = false;
  try {
    await _establish(reader, conn, context);
    const wanted = options.protection ?? GssProtection.CONFIDENTIALITY;
    await writeAll(
      conn,
      encodeGssFrame(
        GssMessageType.PROTECTION,
        context.wrap(Uint8Array.of(wanted), false),
      ),
    );
    const answer = context.unwrap(
      await _proxyToken(reader, GssMessageType.PROTECTION),
    );
    const level = answer.data[0] as GssProtection | undefined;
    if (answer.data.length !== 1 || level === undefined || level > 2) {
      throw new SocksError(
        Reply.NOT_ALLOWED,
        `Proxy answered an invalid GSS-API protection level`,
      );
    }
    if (level < wanted) {
      throw new SocksError(
        Reply.NOT_ALLOWED,
        `Proxy agreed to GSS-API protection level ${level}, below the requested ${wanted}`,
      );
    }
    if (level === GssProtection.NONE) {
      return { level, conn, reader, datagrams: null };
    }
    const wrapping = level === 1
      ? GssProtection.INTEGRITY
      : GssProtection.CONFIDENTIALITY;
    const protectedConn = new GssProtectedConnection(conn, context, wrapping);
    handedOver = true;
    return {
      level,
      conn: protectedConn,
      reader: new FrameReader(protectedConn, { greedy: false }),
      datagrams: gssDatagramProtection(context, wrapping),
    };
  } catch (error) {
    closeQuietly(conn);
    throw error;
  } finally {
    // An established context keeps what it needs of the credentials.
    credential.close();
    if (!handedOver) context.close();
  }
}

async function _establish(
  reader: FrameReader,
  conn: Connection,
  context: GssContext,
): Promise<void> {
  let step = await context.step(null);
  for (let round = 0; round < 8; round++) {
    if (step.output) {
      await writeAll(conn, encodeGssFrame(GssMessageType.CONTEXT, step.output));
    }
    if (step.complete) return;
    step = await context.step(
      await _proxyToken(reader, GssMessageType.CONTEXT),
    );
  }
  throw new SocksError(
    Reply.NOT_ALLOWED,
    "GSS-API context took too many rounds",
  );
}

async function _proxyToken(
  reader: FrameReader,
  type: GssMessageType,
): Promise<Uint8Array> {
  try {
    return await readGssToken(reader, type);
  } catch (error) {
    if (error instanceof GssAbortError) {
      throw new SocksError(
        Reply.NOT_ALLOWED,
        "Proxy refused the GSS-API authentication (abort)",
      );
    }
    throw error;
  }
}
