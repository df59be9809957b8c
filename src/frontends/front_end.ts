/**
 * What every front-end (one per proxy protocol) produces from the first
 * bytes of a connection: a neutral request plus the one responder allowed to
 * answer it.
 *
 * @module
 */

import type { CredentialStore } from "../auth/credential_store.ts";
import type { GssServerSettings } from "../auth/gssapi_method.ts";
import type { DatagramProtection } from "../core/gss_protected_connection.ts";
import type { CommandName, Responder } from "../commands/context.ts";
import type { FrameReader } from "../core/frame_reader.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Limits } from "../policy/limits.ts";
import type { SocksAddress } from "../protocol/address.ts";
import type { Connection } from "../runtime/transport.ts";

/** Where a connection is in its handshake; the access log reports it. */
export type HandshakeStage = "greeting" | "auth" | "request";

/** A request a front-end read and accepted. */
export interface AcceptedRequest {
  /** Which command. */
  command: CommandName;
  /** The destination as the client named it. */
  destination: SocksAddress;
  /** The authenticated user, or `null`. */
  user: string | null;
  /** Sends the request's replies, in the front-end's protocol. */
  responder: Responder;
  /**
   * Set when the authentication method protects all further traffic (GSS-API
   * at level 1 or 2): the connection and reader the session continues on,
   * and how UDP datagrams are sealed.
   */
  protection?: {
    connection: Connection;
    reader: FrameReader;
    datagrams: DatagramProtection;
  };
}

/** What a front-end reports while it works, for the access log. */
export interface HandshakeProgress {
  /** The stage reached. */
  stage: HandshakeStage | "command";
  /** The authenticated user, once known. */
  user: string | null;
  /** The command as the client sent it (a name, or `0x..` when unknown). */
  commandLabel: string | null;
  /** The destination, once read. */
  destination: SocksAddress | null;
  /** The last reply code sent, if any. */
  reply: number | null;
  /**
   * The protocol the client speaks, for logs and metrics labels: a
   * front-end other than SOCKS5 sets it (`socks4`, `http`, …).
   */
  protocol: string;
  /**
   * The responder of the request being read, so that a failure the
   * front-end could not answer itself is answered by the caller.
   */
  openResponder: Responder | null;
  /**
   * Registers a resource to close when the session ends (a protecting
   * connection made during the handshake).
   */
  own<T extends { close(): void }>(resource: T): T;
}

/** The settings a front-end reads. */
export interface FrontEndSettings {
  /** `null` when no authentication is required. */
  readonly credentials: CredentialStore | null;
  /** The GSS-API method, when offered. */
  readonly gssapi: GssServerSettings | null;
  /** Extra delay before answering a failed authentication, in ms. */
  readonly authFailureDelay: number;
  /** Counters. */
  readonly metrics: Metrics;
  /** Failed-login throttle per client IP (`authAllowed`, `authFailed`). */
  readonly limits?: Pick<Limits, "authAllowed" | "authFailed">;
}

/**
 * Reads a handshake from `reader` and answers its negotiation on `conn`,
 * up to (not including) the request's final reply.
 *
 * @throws {SocksError} For a refused or broken handshake, after sending the
 * reply the protocol defines for it (when there is one).
 */
export type FrontEnd = (
  reader: FrameReader,
  conn: Connection,
  settings: FrontEndSettings,
  progress: HandshakeProgress,
  signal: AbortSignal,
) => Promise<AcceptedRequest>;
