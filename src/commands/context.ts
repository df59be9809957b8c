/**
 * What a command handler gets: the request, the client connection, the one
 * responder allowed to answer it, the outbound route, deadlines and the
 * session's resources. Handlers never see the session or the front-end that
 * produced the request, so a new front-end (another protocol on the same
 * port) reuses the same handlers.
 *
 * @module
 */

import type { DatagramProtection } from "../core/gss_protected_connection.ts";
import type { ByteCounter } from "../core/relay.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Outbound } from "../outbound/outbound.ts";
import type { RateLimit } from "../policy/limits.ts";
import type { PortRange } from "../outbound/port_range.ts";
import type { RuleRequest, Ruleset } from "../policy/ruleset.ts";
import type { Connection, NetAddress, Network } from "../runtime/transport.ts";

/** A command, by name. */
export type CommandName = RuleRequest["command"];

/**
 * Answers the client, exactly once with a final reply. A front-end makes one
 * per request; the reply it sends is that protocol's (a SOCKS5 reply, for
 * example), built from the neutral arguments given here.
 */
export interface Responder {
  /** Whether the final reply has gone out. */
  readonly replied: boolean;
  /**
   * Sends an interim success that more replies follow (BIND's first reply,
   * naming where the peer must connect). Not final.
   *
   * @param bound The address to report.
   */
  interim(bound: NetAddress): Promise<void>;
  /**
   * Sends the final success reply.
   *
   * @param bound The address to report (BND.ADDR/BND.PORT).
   * @throws {Error} When a final reply was already sent.
   */
  succeed(bound: NetAddress): Promise<void>;
  /**
   * Sends the final failure reply, its code chosen by `replyFor(error)`.
   *
   * @param error Why the request failed.
   * @throws {Error} When a final reply was already sent.
   */
  fail(error: unknown): Promise<void>;
}

/** The settings a command reads. */
export interface CommandSettings {
  /** Timeouts in ms (0 = none). */
  readonly timeouts: {
    readonly connect: number;
    readonly idle: number;
    readonly bind: number;
    readonly udp: number;
  };
  /**
   * Address for UDP relay sockets; `null` means the address the client's
   * connection reached.
   */
  readonly externalAddress: string | null;
  /**
   * Address BIND and UDP ASSOCIATE replies name instead of the bound one
   * (behind NAT); `null` names the bound address.
   */
  readonly advertisedAddress: string | null;
  /** Ports for UDP relay sockets; `null` lets the system pick. */
  readonly udpPortRange: PortRange | null;
  /** Reassemble fragmented UDP datagrams (RFC 1928 §7) instead of dropping them. */
  readonly udpFragments: boolean;
}

/** Everything a command handler may use. */
export interface CommandContext {
  /** The request as rules see it: client, user, command, destination. */
  readonly request: RuleRequest;
  /** The server address the client's connection reached. */
  readonly local: NetAddress;
  /** The client connection. */
  readonly client: Connection;
  /**
   * How the client's UDP datagrams are sealed (GSS-API protection, RFC 1961
   * §5); `null` for plain datagrams.
   */
  readonly datagramProtection: DatagramProtection | null;
  /** Bytes the client sent after its request: forward them first. */
  readonly leftover: Uint8Array;
  /** Answers the client. */
  readonly responder: Responder;
  /** Where connections, listeners and datagrams go out. */
  readonly outbound: Outbound;
  /** Sockets the server binds for the client (the UDP relay socket). */
  readonly network: Network;
  /** Access rules (checked again per UDP datagram). */
  readonly ruleset: Ruleset;
  /** Timeouts and addresses. */
  readonly settings: CommandSettings;
  /** Log sink. */
  readonly logger: Logger;
  /** Counters and gauges. */
  readonly metrics: Metrics;
  /** Client → destination payload bytes. */
  readonly up: ByteCounter;
  /** Destination → client payload bytes. */
  readonly down: ByteCounter;
  /** Client → destination bandwidth limit, if any. */
  readonly upLimit?: RateLimit;
  /** Destination → client bandwidth limit, if any. */
  readonly downLimit?: RateLimit;
  /** Aborted when the session times out or is terminated. */
  readonly signal: AbortSignal;
  /**
   * Arms the session's deadline, replacing the previous one.
   *
   * @param timeoutMs How long without progress; 0 disables.
   * @param onExpire What to do then; by default the session is terminated.
   */
  deadline(timeoutMs: number, onExpire?: () => void): void;
  /**
   * Aborts the session's signal with a `TimeoutError`, so the step in
   * progress fails with REP X'06' and the session can still reply.
   *
   * @param what What timed out, for the message.
   */
  abortWithTimeout(what: string): void;
  /**
   * Registers a resource the session closes when it ends.
   *
   * @param resource A connection, listener or socket.
   * @returns The same resource.
   */
  own<T extends { close(): void }>(resource: T): T;
}

/** Runs one command to its end; its failures become the final reply. */
export type CommandHandler = (context: CommandContext) => Promise<void>;
