/**
 * What every session of one server shares: its hooks, timeouts and
 * watchdog, with every default already applied.
 *
 * @module
 */

import type { CredentialStore } from "./auth/credential_store.ts";
import type { Dialer } from "./net/dialer.ts";
import type { Resolver } from "./net/resolver.ts";
import type { Logger } from "./observability/logger.ts";
import type { Metrics } from "./observability/metrics.ts";
import type { Ruleset } from "./rules/ruleset.ts";
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
  credentials: CredentialStore | null;
  /** Access control. */
  ruleset: Ruleset;
  /** Name resolution. */
  resolver: Resolver;
  /** Outbound connections. */
  dialer: Dialer;
  /** Log sink. */
  logger: Logger;
  /** Counters and gauges. */
  metrics: Metrics;
  /** Every deadline. */
  timeouts: Timeouts;
  /** The one timer behind every deadline. */
  watchdog: Watchdog;
  /** Enabled commands. */
  commands: CommandSwitches;
  /**
   * Address for BIND listeners and UDP relay sockets; `null` means the
   * address the client's connection reached.
   */
  externalAddress: string | null;
  /** Extra delay before answering a failed authentication, in ms. */
  authFailureDelay: number;
}
