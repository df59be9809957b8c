/**
 * Everything the library exports that does not depend on a runtime: types,
 * errors, codecs, hooks and their defaults, and {@linkcode createApi}, which
 * binds the server and the client to a runtime. The runtime entry points
 * (`src/mod.ts` for Deno, `src/runtime/bun/mod.ts` for Bun) re-export it.
 *
 * @module
 */

import { bind, type Socks5Binding } from "./client/bind.ts";
import { connect, type Socks5Connection } from "./client/connect.ts";
import type { Destination, Socks5ClientOptions } from "./client/handshake.ts";
import {
  type Socks5UdpAssociation,
  udpAssociate,
} from "./client/udp_associate.ts";
import {
  type ServeOptions,
  serveWith,
  type Socks5Server,
} from "./core/server.ts";
import type { GssApi } from "./runtime/gssapi.ts";
import type { Runtime } from "./runtime/runtime.ts";

/** The server and client functions of one runtime. */
export interface Api {
  /**
   * Starts a SOCKS5 server.
   *
   * @param options Listen addresses, users, hooks and limits.
   * @returns The running server, once it listens.
   */
  serve(options?: ServeOptions): Promise<Socks5Server>;
  /**
   * Opens a TCP connection to `destination` through a SOCKS5 proxy.
   *
   * @param destination Host (IP literal or name, resolved by the proxy) and
   * port.
   * @param options Proxy, credentials, signal.
   * @returns The connection and the proxy's bound address.
   */
  connect(
    destination: Destination,
    options: Socks5ClientOptions,
  ): Promise<Socks5Connection>;
  /**
   * Asks a SOCKS5 proxy to accept one incoming connection (BIND).
   *
   * @param destination The expected peer (0.0.0.0:0 for anyone).
   * @param options Proxy, credentials, signal.
   * @returns The control connection, the bound address and the peer promise.
   */
  bind(
    destination: Destination,
    options: Socks5ClientOptions,
  ): Promise<Socks5Binding>;
  /**
   * Opens a UDP association through a SOCKS5 proxy.
   *
   * @param options Proxy, credentials, signal.
   * @returns The association.
   */
  udpAssociate(options: Socks5ClientOptions): Promise<Socks5UdpAssociation>;
  /**
   * Opens the system GSS-API library by FFI (`--allow-ffi` on Deno), for
   * the client's `gssapi` option.
   *
   * @param library The shared object.
   * @returns The API.
   */
  loadGssapi(library?: string): Promise<GssApi>;
}

/**
 * Binds the server and the client to a runtime's network and resolver.
 *
 * @param runtime Deno's or Bun's (see `src/runtime/`).
 * @returns The functions.
 */
export function createApi(runtime: Runtime): Api {
  const network = runtime.network;
  return {
    serve: (options = {}) => serveWith(runtime, options),
    connect: (destination, options) =>
      connect(destination, { network, ...options }),
    bind: (destination, options) => bind(destination, { network, ...options }),
    udpAssociate: (options) => udpAssociate({ network, ...options }),
    loadGssapi: (library) => runtime.loadGssapi(library),
  };
}

export type {
  AppendFile,
  HttpServeOptions,
  HttpServerHandle,
  ProcessHost,
  ProcessSignal,
  ProcessStats,
  Runtime,
} from "./runtime/runtime.ts";
export type {
  GssapiOptions,
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
export type { GssClientOptions } from "./client/gssapi.ts";
export {
  DEFAULT_GSS_LIBRARY,
  type GssAcceptorOptions,
  type GssApi,
  type GssContext,
  type GssCredential,
  GssError,
  type GssInitiateOptions,
  type GssInitiatorOptions,
  type GssLoader,
  type GssStep,
  GssSupplementary,
  type GssUnwrapped,
} from "./runtime/gssapi.ts";
export { GssProtection } from "./protocol/gssapi.ts";
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
  type AccessRule,
  AccessRules,
  type RuleCommand,
  type RuleDecision,
} from "./policy/access_rules.ts";
export {
  type LimitSettings,
  type RateLimit,
  type SessionLease,
} from "./policy/limits.ts";
export { UserCredentials } from "./auth/user_credentials.ts";
export {
  hashPassword,
  type HashScheme,
  verifyPasswordHash,
} from "./auth/password_hash.ts";
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
  UdpSink,
} from "./outbound/outbound.ts";
export { UDP_DROP_REASONS, type UdpDropReason } from "./outbound/outbound.ts";
export {
  DirectOutbound,
  type DirectOutboundOptions,
} from "./outbound/direct.ts";
export {
  UpstreamOutbound,
  type UpstreamOutboundOptions,
} from "./outbound/upstream.ts";
export {
  RoutedOutbound,
  type RoutedOutboundOptions,
} from "./outbound/route.ts";
export {
  parseUpstreamChain,
  parseUpstreamUrl,
  type UpstreamHop,
  type UpstreamProtocol,
} from "./outbound/upstream_url.ts";
export { parsePortRange, type PortRange } from "./outbound/port_range.ts";
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
  formatLabels,
  type GaugeName,
  type HistogramName,
  type LabelsArgument,
  MemoryMetrics,
  type MemoryMetricsOptions,
  METRIC_FAMILIES,
  type MetricFamily,
  type MetricLabels,
  type Metrics,
  type MetricsDump,
  OTHER_USERS,
  type TrafficInFlight,
} from "./observability/metrics.ts";
export {
  type ConfigStatus,
  createConfigStatus,
  markReloaded,
} from "./observability/config_status.ts";
export type { SessionInfo } from "./core/session_info.ts";
export {
  type AdminHandler,
  type AdminHandlerOptions,
  type AdminSource,
  createAdminHandler,
} from "./admin/admin_handler.ts";
export { type AdminServer, serveAdmin } from "./admin/serve_admin.ts";
export type { BuildInfo } from "./admin/process_exposition.ts";
