/**
 * socks5-deno: a SOCKS5 proxy server (RFC 1928, RFC 1929: CONNECT, BIND,
 * UDP ASSOCIATE; IPv4, IPv6 and domain names; username/password) and a
 * SOCKS5 client, on Deno. (On Bun, import `src/runtime/bun/mod.ts`: the same
 * API on Bun's sockets.)
 *
 * Run a server inside your program:
 *
 * ```ts
 * import { serve } from "./mod.ts";
 *
 * await using server = await serve({
 *   listen: { hostname: "127.0.0.1", port: 0 },
 *   users: { alice: "correct horse" },
 *   timeouts: { idle: 60_000 },
 * });
 * console.log(`SOCKS5 proxy on port ${server.addr.port}`);
 * ```
 *
 * Talk to any SOCKS5 proxy (here, through the one above, to a second proxy
 * that stands in for a local service: the client sends it a greeting):
 *
 * ```ts
 * import { connect, serve } from "./mod.ts";
 *
 * await using proxy = await serve({ listen: { hostname: "127.0.0.1", port: 0 } });
 * await using service = await serve({ listen: { hostname: "127.0.0.1", port: 0 } });
 *
 * const { conn } = await connect(
 *   { host: "127.0.0.1", port: service.addr.port },
 *   { proxy: proxy.addr },
 * );
 * await conn.write(Uint8Array.of(5, 1, 0)); // a greeting, relayed
 * const answer = new Uint8Array(2);
 * await conn.read(answer); // 05 00: the service's method choice
 * conn.close();
 * ```
 *
 * `bind()` and `udpAssociate()` work the same way for BIND and UDP
 * ASSOCIATE.
 *
 * Everything a deployment varies is a hook in {@linkcode ServeOptions}:
 * {@linkcode Ruleset}, {@linkcode Resolver}, {@linkcode Outbound},
 * {@linkcode Network}, {@linkcode CredentialStore}, {@linkcode Logger} and
 * {@linkcode Metrics}.
 *
 * @module
 */

import { bind as bindOn, type Socks5Binding } from "./client/bind.ts";
import {
  connect as connectOn,
  type Socks5Connection,
} from "./client/connect.ts";
import type { Destination, Socks5ClientOptions } from "./client/handshake.ts";
import {
  type Socks5UdpAssociation,
  udpAssociate as udpAssociateOn,
} from "./client/udp_associate.ts";
import {
  type ServeOptions,
  serveWith,
  type Socks5Server,
} from "./core/server.ts";
import { denoRuntime } from "./runtime/deno/runtime.ts";

/**
 * Starts a SOCKS5 server on Deno's sockets.
 *
 * @param options Listen addresses, users, hooks and limits.
 * @returns The running server, once it listens.
 */
export function serve(options: ServeOptions = {}): Promise<Socks5Server> {
  return serveWith(denoRuntime, options);
}

/**
 * Opens a TCP connection to `destination` through a SOCKS5 proxy.
 *
 * @param destination Host (IP literal or name, resolved by the proxy) and port.
 * @param options Proxy, credentials, signal.
 * @returns The connection and the proxy's bound address.
 */
export function connect(
  destination: Destination,
  options: Socks5ClientOptions,
): Promise<Socks5Connection> {
  return connectOn(destination, { network: denoRuntime.network, ...options });
}

/**
 * Asks a SOCKS5 proxy to accept one incoming connection (BIND).
 *
 * @param destination The expected peer (0.0.0.0:0 for anyone).
 * @param options Proxy, credentials, signal.
 * @returns The control connection, the bound address and the peer promise.
 */
export function bind(
  destination: Destination,
  options: Socks5ClientOptions,
): Promise<Socks5Binding> {
  return bindOn(destination, { network: denoRuntime.network, ...options });
}

/**
 * Opens a UDP association through a SOCKS5 proxy.
 *
 * @param options Proxy, credentials, signal.
 * @returns The association.
 */
export function udpAssociate(
  options: Socks5ClientOptions,
): Promise<Socks5UdpAssociation> {
  return udpAssociateOn({ network: denoRuntime.network, ...options });
}

export type {
  ListenAddress,
  ServeOptions,
  ShutdownOptions,
  Socks5Server,
} from "./core/server.ts";
export {
  type CommandSwitches,
  DEFAULT_TIMEOUTS,
  type Timeouts,
} from "./core/context.ts";
export type { Socks5Connection } from "./client/connect.ts";
export type { Socks5Binding } from "./client/bind.ts";
export {
  type RelayedDatagram,
  Socks5UdpAssociation,
} from "./client/udp_associate.ts";
export type { Destination, Socks5ClientOptions } from "./client/handshake.ts";
export { describeReply, replyFor } from "./core/reply_for.ts";
export { ProtocolError, SocksError } from "./protocol/errors.ts";
export { NetError, type NetErrorKind } from "./runtime/net_error.ts";
export type {
  Connection,
  ConnectOptions,
  DatagramOptions,
  DatagramSocket,
  Listener,
  ListenOptions,
  NetAddress,
  Network,
  SpliceCounters,
} from "./runtime/transport.ts";
export { AddressType, Command, Method, Reply } from "./protocol/constants.ts";
export {
  formatAddress,
  type SocksAddress,
  toSocksAddress,
} from "./protocol/address.ts";
export {
  type CredentialStore,
  StaticCredentials,
} from "./auth/credential_store.ts";
export { parseUsersFile } from "./auth/users_file.ts";
export { permitAll, type RuleRequest, type Ruleset } from "./policy/ruleset.ts";
export {
  blockInternalDestinations,
  type DestinationPolicyOptions,
  INTERNAL_BLOCKS,
} from "./policy/destination_policy.ts";
export { type Resolver } from "./outbound/resolver.ts";
export { SystemResolver } from "./outbound/system_resolver.ts";
export type {
  Outbound,
  OutboundRequest,
  OutboundUdp,
  PendingBind,
  UdpDropReason,
  UdpSink,
} from "./outbound/outbound.ts";
export {
  DirectOutbound,
  type DirectOutboundOptions,
} from "./outbound/direct.ts";
export {
  createLogger,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  silentLogger,
} from "./observability/logger.ts";
export {
  type CounterName,
  type GaugeName,
  MemoryMetrics,
  type Metrics,
} from "./observability/metrics.ts";
export {
  metricsHandler,
  type PrometheusSource,
} from "./observability/metrics_endpoint.ts";
