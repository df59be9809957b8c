/**
 * The client side of the handshake, shared by CONNECT, BIND and UDP
 * ASSOCIATE.
 *
 * @module
 */

import { closeQuietly } from "../core/close_quietly.ts";
import { FrameReader } from "../core/frame_reader.ts";
import { writeAll } from "../core/relay.ts";
import { describeReply } from "../core/reply_for.ts";
import { SocksError } from "../protocol/errors.ts";
import type { Connection, Network } from "../runtime/transport.ts";
import { type SocksAddress, toSocksAddress } from "../protocol/address.ts";
import {
  type Command,
  Method,
  Reply,
  USERPASS_SUCCESS,
} from "../protocol/constants.ts";
import { encodeGreeting, readMethodChoice } from "../protocol/greeting.ts";
import type { DatagramProtection } from "../core/gss_protected_connection.ts";
import { type GssClientOptions, initiateGssapi } from "./gssapi.ts";
import { encodeRequest, readReply } from "../protocol/request.ts";
import {
  encodeUserPassRequest,
  readUserPassReply,
} from "../protocol/userpass.ts";

/** A destination: a host (IPv4, IPv6 with or without brackets, or a name) and a port. */
export interface Destination {
  /** IP literal or host name. */
  host: string;
  /** Port, 0–65535. */
  port: number;
}

/** Where the proxy is and how to log in. */
export interface Socks5ClientOptions {
  /** The proxy's address. */
  proxy: { hostname: string; port: number };
  /** Credentials, when the proxy requires RFC 1929 authentication. */
  auth?: { username: string; password: string };
  /**
   * Authenticate with GSS-API (RFC 1961, Kerberos) instead; when `auth` is
   * set too, both methods are offered and the proxy picks.
   */
  gssapi?: GssClientOptions;
  /** Aborting it closes the connection and rejects the pending call. */
  signal?: AbortSignal;
  /**
   * The sockets to use.
   * @default {the runtime's own, filled in by its entry point (`src/mod.ts`)}
   */
  network?: Network;
}

/** Client options with the network chosen: what the client modules take. */
export type ClientOptionsWithNetwork = Socks5ClientOptions & {
  network: Network;
};

/** An open control connection after a successful request. */
export interface Handshake {
  /** The connection to the proxy. */
  conn: Connection;
  /** Reads further replies (BIND's second). */
  reader: FrameReader;
  /** BND.ADDR/BND.PORT of the reply. */
  bound: SocksAddress;
  /** How UDP datagrams are sealed (GSS-API protection); `null` if not. */
  datagrams: DatagramProtection | null;
}

/**
 * Connects to the proxy, negotiates a method (no-auth, or username/password
 * when `auth` is set), sends one request and reads its reply.
 *
 * @param command The CMD byte.
 * @param destination DST.ADDR/DST.PORT.
 * @param options Proxy, credentials, signal.
 * @returns The open connection, its frame reader and the reply's address.
 * @throws {SocksError} With the proxy's REP when it refused, or X'02' when
 * authentication failed or no method was acceptable.
 */
export async function handshake(
  command: Command,
  destination: Destination,
  options: ClientOptionsWithNetwork,
): Promise<Handshake> {
  const { signal } = options;
  signal?.throwIfAborted();
  let conn = await options.network.connect({
    hostname: options.proxy.hostname,
    port: options.proxy.port,
    ...(signal ? { signal } : {}),
  });
  const onAbort = () => closeQuietly(conn);
  signal?.addEventListener("abort", onAbort, { once: true });
  // Reads stop exactly at the end of each frame, so whatever the proxy sends
  // after its reply stays in the connection for the caller.
  let reader = new FrameReader(conn, { greedy: false });
  let datagrams: DatagramProtection | null = null;
  try {
    const methods: number[] = [];
    if (options.gssapi) methods.push(Method.GSSAPI);
    if (options.auth) methods.push(Method.USERPASS);
    if (methods.length === 0) methods.push(Method.NO_AUTH);
    await writeAll(conn, encodeGreeting(methods));
    const chosen = await readMethodChoice(reader);
    if (!methods.includes(chosen)) {
      throw new SocksError(
        Reply.NOT_ALLOWED,
        `Proxy accepted none of the offered authentication methods (answered 0x${
          chosen.toString(16).padStart(2, "0")
        })`,
      );
    }
    if (chosen === Method.GSSAPI) {
      const gss = await initiateGssapi(
        reader,
        conn,
        options.gssapi!,
        options.proxy.hostname,
      );
      conn = gss.conn;
      reader = gss.reader;
      datagrams = gss.datagrams;
    } else if (chosen === Method.USERPASS) {
      await writeAll(
        conn,
        encodeUserPassRequest(options.auth!.username, options.auth!.password),
      );
      if ((await readUserPassReply(reader)) !== USERPASS_SUCCESS) {
        throw new SocksError(
          Reply.NOT_ALLOWED,
          "Proxy rejected the username or password",
        );
      }
    }
    await writeAll(
      conn,
      encodeRequest(
        command,
        toSocksAddress(destination.host, destination.port),
      ),
    );
    const bound = await readReplyOrThrow(reader);
    return { conn, reader, bound, datagrams };
  } catch (error) {
    closeQuietly(conn);
    throw signal?.aborted ? signal.reason : error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Reads one reply and turns a failure REP into an error.
 *
 * @param reader The control connection's reader.
 * @returns BND.ADDR/BND.PORT.
 * @throws {SocksError} With the REP the proxy sent.
 */
export async function readReplyOrThrow(
  reader: FrameReader,
): Promise<SocksAddress> {
  const { reply, bound } = await readReply(reader);
  if (reply !== Reply.SUCCEEDED) {
    throw new SocksError(
      reply as Reply,
      `Proxy replied ${describeReply(reply)} (0x${
        reply.toString(16).padStart(2, "0")
      })`,
    );
  }
  return bound;
}
