/**
 * socks5-deno: a SOCKS5 proxy server (RFC 1928, RFC 1929: CONNECT, BIND,
 * UDP ASSOCIATE; IPv4, IPv6 and domain names; username/password) and a
 * SOCKS5 client, for Deno.
 *
 * Run a server inside your program:
 *
 * ```ts
 * import { serve } from "./mod.ts";
 *
 * await using server = serve({
 *   listen: { hostname: "127.0.0.1", port: 0 },
 *   users: { alice: "correct horse" },
 *   timeouts: { idle: 60_000 },
 * });
 * console.log(`SOCKS5 proxy on port ${server.addr.port}`);
 * ```
 *
 * Talk to any SOCKS5 proxy (here, the one above, to a local service):
 *
 * ```ts
 * import { connect, serve } from "./mod.ts";
 *
 * await using server = serve({ listen: { hostname: "127.0.0.1", port: 0 } });
 * using service = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 *
 * const { conn } = await connect(
 *   { host: "127.0.0.1", port: service.addr.port },
 *   { proxy: server.addr },
 * );
 * using peer = await service.accept();
 * await conn.write(new TextEncoder().encode("hello"));
 * const received = new Uint8Array(5);
 * await peer.read(received); // "hello", relayed by the proxy
 * conn.close();
 * ```
 *
 * `bind()` and `udpAssociate()` work the same way for BIND and UDP
 * ASSOCIATE.
 *
 * Everything a deployment varies is a hook in {@linkcode ServeOptions}:
 * {@linkcode Ruleset}, {@linkcode Resolver}, {@linkcode Dialer},
 * {@linkcode CredentialStore}, {@linkcode Logger} and {@linkcode Metrics}.
 *
 * @module
 */

export {
  type ListenAddress,
  serve,
  type ServeOptions,
  type ShutdownOptions,
  type Socks5Server,
} from "./server.ts";
export {
  type CommandSwitches,
  DEFAULT_TIMEOUTS,
  type Timeouts,
} from "./server_context.ts";
export { connect, type Socks5Connection } from "./client/connect.ts";
export { bind, type Socks5Binding } from "./client/bind.ts";
export {
  type RelayedDatagram,
  Socks5UdpAssociation,
  udpAssociate,
} from "./client/udp_associate.ts";
export type { Destination, Socks5ClientOptions } from "./client/handshake.ts";
export {
  describeReply,
  ProtocolError,
  replyFor,
  SocksError,
} from "./errors.ts";
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
export { permitAll, type RuleRequest, type Ruleset } from "./rules/ruleset.ts";
export {
  blockInternalDestinations,
  type DestinationPolicyOptions,
  INTERNAL_BLOCKS,
} from "./rules/destination_policy.ts";
export { type Resolver, SystemResolver } from "./net/resolver.ts";
export { type Dialer, directDialer } from "./net/dialer.ts";
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
  type MetricsEndpointOptions,
  type PrometheusSource,
  serveMetrics,
} from "./observability/metrics_endpoint.ts";
