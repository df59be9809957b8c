/**
 * What every session of one server shares: its hooks, timeouts and
 * watchdog, with every default already applied. Sessions capture the
 * context they started with, so swapping it (a reload) changes new sessions
 * only.
 *
 * @module
 */

import type { CredentialStore } from "../auth/credential_store.ts";
import type { GssServerSettings } from "../auth/gssapi_method.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Outbound } from "../outbound/outbound.ts";
import type { Limits } from "../policy/limits.ts";
import type { PortRange } from "../outbound/port_range.ts";
import type { Ruleset } from "../policy/ruleset.ts";
import type { Network } from "../runtime/transport.ts";
import type { Watchdog } from "./watchdog.ts";

/** Every timeout, in milliseconds; 0 disables one. */
export interface Timeouts {
  /**
   * From accept to a complete request (greeting, authentication, request).
   * @default {10000}
   */
  handshake: number;
  /**
   * Name resolution plus every connection attempt of one CONNECT.
   * @default {10000}
   */
  connect: number;
  /**
   * A relayed TCP connection with no byte in either direction is closed.
   * @default {3600000}
   */
  idle: number;
  /**
   * How long BIND waits for the peer's incoming connection.
   * @default {60000}
   */
  bind: number;
  /**
   * A UDP association with no datagram in either direction is closed.
   * @default {120000}
   */
  udp: number;
}

/** The defaults of {@linkcode Timeouts}. */
export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = Object.freeze({
  handshake: 10_000,
  connect: 10_000,
  idle: 3_600_000,
  bind: 60_000,
  udp: 120_000,
});

/** Which commands a server accepts. */
export interface CommandSwitches {
  /** CONNECT. @default {true} */
  connect: boolean;
  /** BIND. @default {true} */
  bind: boolean;
  /** UDP ASSOCIATE. @default {true} */
  udpAssociate: boolean;
}

/** The hooks and settings shared by the sessions of one server. */
export interface ServerContext {
  /** `null` when no authentication is required. */
  readonly credentials: CredentialStore | null;
  /** The GSS-API method's credentials and policy; `null` when not offered. */
  readonly gssapi: GssServerSettings | null;
  /** Access control. */
  readonly ruleset: Ruleset;
  /** Where requests go out. */
  readonly outbound: Outbound;
  /** Sockets bound for clients (UDP relay sockets). */
  readonly network: Network;
  /** Log sink. */
  readonly logger: Logger;
  /** Where the one line per session goes (the logger unless set apart). */
  readonly accessLog: Logger;
  /** Counters and gauges. */
  readonly metrics: Metrics;
  /** Every deadline. */
  readonly timeouts: Timeouts;
  /** The one timer behind every deadline. */
  readonly watchdog: Watchdog;
  /** Enabled commands. */
  readonly commands: CommandSwitches;
  /**
   * Address for BIND listeners and UDP relay sockets; `null` means the
   * address the client's connection reached.
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
  /** Extra delay before answering a failed authentication, in ms. */
  readonly authFailureDelay: number;
  /** Per-user and per-client limits. */
  readonly limits: Limits;
}
