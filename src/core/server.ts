/**
 * The server: listeners, the accept loop, session limits and graceful
 * shutdown.
 *
 * @module
 */

import type { CredentialStore } from "../auth/credential_store.ts";
import { UserCredentials } from "../auth/user_credentials.ts";
import type { GssServerSettings } from "../auth/gssapi_method.ts";
import { type Logger, silentLogger } from "../observability/logger.ts";
import {
  MemoryMetrics,
  type Metrics,
  type TrafficInFlight,
} from "../observability/metrics.ts";
import { DirectOutbound } from "../outbound/direct.ts";
import { type Outbound, UDP_DROP_REASONS } from "../outbound/outbound.ts";
import type { PortRange } from "../outbound/port_range.ts";
import { RoutedOutbound } from "../outbound/route.ts";
import type { Resolver } from "../outbound/resolver.ts";
import type { ProtocolSwitches } from "../frontends/front_end.ts";
import {
  blockInternalDestinations,
  inBlock,
  parseCidr,
} from "../policy/destination_policy.ts";
import { permitAll, type Ruleset } from "../policy/ruleset.ts";
import { type AccessRule, AccessRules } from "../policy/access_rules.ts";
import { Limits, type LimitSettings } from "../policy/limits.ts";
import { SharedCounters } from "../policy/shared_counters.ts";
import { formatAddress, toSocksAddress } from "../protocol/address.ts";
import { canonicalIp, ipFamily, isLoopback } from "../protocol/ip.ts";
import { NetError } from "../runtime/net_error.ts";
import type { GssLoader } from "../runtime/gssapi.ts";
import type { Listener, NetAddress, Network } from "../runtime/transport.ts";
import type { GssProtection } from "../protocol/gssapi.ts";
import { ACCEPT_FAILURE_KINDS, acceptFailureAction } from "./accept_failure.ts";
import { closeQuietly } from "./close_quietly.ts";
import {
  type CommandSwitches,
  DEFAULT_TIMEOUTS,
  type ServerContext,
  type Timeouts,
} from "./context.ts";
import { Session } from "./session.ts";
import type { SessionInfo } from "./session_info.ts";
import { LiveList } from "./live_list.ts";
import { Watchdog } from "./watchdog.ts";

/** One address to listen on. */
export interface ListenAddress {
  /**
   * An IP literal (IPv6 without brackets) or a host name.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port; 0 picks a free one (read it back from `addrs`).
   * @default {1080}
   */
  port?: number;
}

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  /**
   * Where to listen: one address or several.
   * @default {{ hostname: "127.0.0.1", port: 1080 }}
   */
  listen?: ListenAddress | ListenAddress[];
  /**
   * Users and passwords; when any are given only username/password
   * authentication is accepted. Ignored when `credentials` is set.
   */
  users?: Record<string, string> | Map<string, string>;
  /** A custom credential check; takes precedence over `users`. */
  credentials?: CredentialStore;
  /**
   * Offer the GSS-API method (RFC 1961, Kerberos) beside username/password.
   * The runtime's GSS-API library is loaded by FFI only when this is set.
   */
  gssapi?: GssapiOptions;
  /**
   * Access rules.
   * @default {permitAll}
   */
  ruleset?: Ruleset;
  /**
   * Refuse destinations in loopback, link-local, private and cloud-metadata
   * ranges (see `INTERNAL_BLOCKS`), checked after name resolution and per UDP
   * datagram.
   * @default {true when any listen address is not loopback, else false}
   */
  blockInternalDestinations?: boolean;
  /**
   * CIDR blocks exempt from `blockInternalDestinations`.
   * @default {[]}
   */
  allowDestinations?: readonly string[];
  /**
   * Name resolution.
   * @default {the runtime's system resolver}
   */
  resolver?: Resolver;
  /**
   * The sockets: listeners, outbound connections, UDP. Replace it to fake
   * the network in tests.
   * @default {the runtime's network}
   */
  network?: Network;
  /**
   * Where requests go out; replaces the direct route (resolve, rules per
   * address, Happy Eyeballs) built from `network` and `resolver`.
   */
  outbound?: Outbound;
  /**
   * The default upstream chain: proxy URLs (`socks5://[user:pass@]host:port`,
   * `socks4a://`, `socks4://`, `http://`), first hop first. A request's own
   * `via` (from the rules) replaces it.
   * @default {[] (direct)}
   */
  upstream?: readonly string[];
  /**
   * Source address for outbound TCP connections (direct, or to the first
   * upstream hop). Needs a runtime whose network can bind one
   * (`Network.canBindSource`: Bun, not Deno).
   * @default {the system's choice}
   */
  outboundAddress?: string;
  /**
   * Ports for UDP relay sockets (client side and outbound side), inclusive.
   * @default {any free port}
   */
  udpPortRange?: PortRange;
  /**
   * The address BIND and UDP ASSOCIATE replies name, when clients must use
   * another address than the one the sockets are bound on (behind NAT).
   * @default {the bound address}
   */
  advertisedAddress?: string;
  /**
   * Reassemble fragmented UDP datagrams (RFC 1928 §7: FRAG 1–127, the high
   * bit on the last; a 5 s timer and a 65507-byte cap per association)
   * instead of dropping them.
   * @default {false}
   */
  udpFragments?: boolean;
  /**
   * Log sink; the library logs nothing by default.
   * @default {silentLogger}
   */
  logger?: Logger;
  /**
   * Where the one line per session (the access log) goes.
   * @default {the logger}
   */
  accessLog?: Logger;
  /**
   * Counters and gauges.
   * @default {new MemoryMetrics()}
   */
  metrics?: Metrics;
  /** Timeouts in milliseconds; see `DEFAULT_TIMEOUTS`. 0 disables one. */
  timeouts?: Partial<Timeouts>;
  /**
   * Concurrent sessions; connections beyond it are closed at once and
   * counted (`sessions_rejected_total`).
   * @default {10000}
   */
  maxSessions?: number;
  /**
   * Allow listening on a non-loopback address without authentication.
   * @default {false}
   */
  allowOpenProxy?: boolean;
  /**
   * Enabled commands; a disabled one is answered with REP X'07'.
   * @default {{ connect: true, bind: true, udpAssociate: true }}
   */
  commands?: Partial<CommandSwitches>;
  /**
   * Address for BIND listeners and UDP relay sockets.
   * @default {the address the client's connection reached}
   */
  externalAddress?: string;
  /**
   * Delay before answering a failed authentication, in ms, to slow down
   * password guessing.
   * @default {0}
   */
  authFailureDelay?: number;
  /**
   * The proxy protocols served on the listeners' port, told apart by their
   * first byte; a protocol set to `false` is closed without a reply.
   * @default {{ socks5: true, socks4: true, http: true }}
   */
  protocols?: Partial<ProtocolSwitches>;
  /**
   * Serve SOCKS4/4A even when users (or GSS-API) are configured. Its USERID
   * is not a password, so SOCKS4 clients are then served unauthenticated
   * (their requests carry `user: null` and `protocol: "socks4"` for the
   * rules). HTTP proxy clients authenticate with Basic against the users;
   * with GSS-API as the only method, HTTP is not served.
   * @default {false}
   */
  allowSocks4WithUsers?: boolean;
  /**
   * CIDR blocks of load balancers that send a PROXY protocol (v1 or v2)
   * header: connections from them must start with one, and its source
   * address is the client for rules, limits and logs. A header from any
   * other source is refused (the connection is closed without a reply).
   * @default {[] (no PROXY protocol)}
   */
  proxyProtocolFrom?: readonly string[];
  /**
   * Ordered first-match access rules, as data (see `AccessRules`); a
   * request no rule matches is refused. Applied before `ruleset`.
   */
  rules?: readonly AccessRule[];
  /** User groups the `rules` may name: group to usernames. */
  groups?: Readonly<Record<string, readonly string[]>>;
  /** Per-user and per-client limits. */
  limits?: LimitSettings;
  /**
   * The counters behind `limits`, shared between workers (made by the
   * cluster); a fresh table by default.
   */
  sharedLimits?: SharedArrayBuffer;
  /**
   * Set SO_REUSEPORT on listeners, so several processes can share a port.
   * @default {false}
   */
  reusePort?: boolean;
  /** Aborting it starts a graceful shutdown. */
  signal?: AbortSignal;
}

/** Options of {@linkcode ServeOptions.gssapi}. */
export interface GssapiOptions {
  /** The keytab with the service's keys. */
  keytab: string;
  /**
   * The service clients ask tickets for: the first component of the
   * service principal (`rcmd` for `rcmd/proxy.example@REALM`, what curl and
   * most SOCKS clients use).
   */
  service: string;
  /**
   * The protection levels the server agrees to: 0 none (curl asks for it),
   * 1 integrity, 2 confidentiality.
   * @default {[1, 2]}
   */
  protection?: readonly GssProtection[];
  /**
   * The shared library to load.
   * @default {"libgssapi_krb5.so.2"}
   */
  library?: string;
}

/** Options of {@linkcode Socks5Server.shutdown}. */
export interface ShutdownOptions {
  /**
   * How long running sessions may go on before they are closed.
   * @default {10000}
   */
  graceMs?: number;
}

/** A running server. */
export interface Socks5Server extends AsyncDisposable {
  /** The first listener's address. */
  readonly addr: NetAddress;
  /** Every listener's address, in `listen` order. */
  readonly addrs: readonly NetAddress[];
  /** Resolves when the server has shut down and every session has ended. */
  readonly finished: Promise<void>;
  /** Sessions in progress. */
  readonly activeSessions: number;
  /** The metrics the server reports to. */
  readonly metrics: Metrics;
  /** The settings' generation: 1 at start, one more per reload. */
  readonly generation: number;
  /** When the settings in force were loaded (start or last reload). */
  readonly loadedAt: Date;
  /**
   * Swaps in new settings (users, rules, limits, timeouts, listen
   * addresses) for new sessions; running sessions keep theirs.
   *
   * @param options The new settings; hooks not given fall back to defaults.
   * @throws {TypeError} Or RangeError or NetError, leaving the old settings
   * in force.
   */
  reload(options: ServeOptions): Promise<void>;
  /** Whether the server is shutting down (no longer accepting). */
  readonly draining: boolean;
  /**
   * The sessions in progress, for `/api/sessions` and the status page.
   *
   * @returns One row per session, oldest first.
   */
  sessions(): SessionInfo[];
  /**
   * The traffic of sessions in progress, not in the metrics until they end;
   * see `MemoryMetrics.dump`.
   *
   * @returns One entry per session that relayed bytes.
   */
  trafficInFlight(): TrafficInFlight[];
  /**
   * Stops accepting, lets sessions finish within the grace period, then
   * closes the rest.
   *
   * @param options The grace period.
   * @returns The same promise as `finished`.
   */
  shutdown(options?: ShutdownOptions): Promise<void>;
}

const _BACKOFF_MIN_MS = 10;
/** What limits count in when none is set: never touched, so one slot. */
const _NO_COUNTERS = SharedCounters.create(2);
const _BACKOFF_MAX_MS = 1_000;
const _WARN_INTERVAL_MS = 10_000;

/**
 * Starts a SOCKS5 server on the given network. Library users call the
 * `serve()` of their runtime's entry point (`src/mod.ts` for Deno), which
 * supplies `network` and `resolver`.
 *
 * @param options Listen addresses, users, hooks and limits, with the network
 * and resolver to use.
 * @returns The running server, once every listener is bound.
 * @throws {TypeError} When listening on a non-loopback address without
 * authentication and `allowOpenProxy` is not set.
 * @throws {RangeError} For invalid limits or timeouts.
 * @throws {NetError} When a listener cannot be bound.
 */
export async function startServer(
  options: ServeOptions & {
    network: Network;
    resolver: Resolver;
    loadGssapi?: GssLoader;
  },
): Promise<Socks5Server> {
  const gssapi = options.gssapi
    ? await _acquireGssapi(options.gssapi, options.loadGssapi)
    : null;
  let server;
  try {
    server = new _Server(options, gssapi);
    await server.listen(options.network, options.reusePort ?? false);
  } catch (error) {
    gssapi?.credential.close();
    throw error;
  }
  return server;
}

async function _acquireGssapi(
  options: GssapiOptions,
  load: GssLoader | undefined,
): Promise<GssServerSettings> {
  if (!load) throw new TypeError("This runtime cannot load a GSS-API library");
  if (!options.keytab || !options.service) {
    throw new TypeError("GSS-API needs both a keytab and a service name");
  }
  const protection = options.protection ?? [1, 2];
  if (protection.length === 0) {
    throw new RangeError("GSS-API needs at least one protection level");
  }
  const api = await load(options.library);
  const credential = await api.acceptor({ keytab: options.keytab });
  return { credential, service: options.service, protection };
}

/**
 * Starts a SOCKS5 server on a runtime's network and resolver (unless the
 * options replace them).
 *
 * @param runtime The runtime's network and resolver.
 * @param options Listen addresses, users, hooks and limits.
 * @returns The running server, once every listener is bound.
 */
export function serveWith(
  runtime: { network: Network; resolver: Resolver; loadGssapi?: GssLoader },
  options: ServeOptions = {},
): Promise<Socks5Server> {
  return startServer({
    ...options,
    network: options.network ?? runtime.network,
    resolver: options.resolver ?? runtime.resolver,
    ...(runtime.loadGssapi ? { loadGssapi: runtime.loadGssapi } : {}),
  });
}

/**
 * The outbound source address, refused (as is a rule's `source`) where the
 * runtime cannot bind it.
 */
function _sourceAddress(
  options: ServeOptions & { network: Network },
): string | null {
  const index = options.rules?.findIndex((r) => r.source !== undefined) ?? -1;
  // A custom outbound decides for itself what a rule's source means.
  if (
    index >= 0 && options.outbound === undefined &&
    !options.network.canBindSource
  ) {
    const name = options.rules![index]!.name ?? `rule ${index + 1}`;
    throw _cannotBindSource(`the source of rule ${JSON.stringify(name)}`);
  }
  const source = options.outboundAddress;
  if (source === undefined) return null;
  if (ipFamily(source) === null) {
    throw new TypeError(
      `Outbound address ${JSON.stringify(source)} is not an IP literal`,
    );
  }
  if (!options.network.canBindSource) {
    throw _cannotBindSource("outboundAddress (--outbound-address)");
  }
  return canonicalIp(source);
}

function _cannotBindSource(what: string): TypeError {
  return new TypeError(
    "This runtime cannot bind a source address for outbound connections " +
      "(Deno's connect has no such option); run on Bun or the executable " +
      `to use ${what}.`,
  );
}

class _Server implements Socks5Server {
  addrs: readonly NetAddress[] = [];
  readonly finished: Promise<void>;
  readonly metrics: Metrics;
  generation = 1;
  loadedAt = new Date();
  #context: ServerContext;
  #addresses: Array<{ hostname: string; port: number }>;
  #gssapi: GssServerSettings | null;
  #listeners: Listener[] = [];
  #retired = new Set<Listener>();
  #network: Network;
  #resolver: Resolver;
  #reusePort = false;
  #counters: SharedCounters | null;
  #sessions = new LiveList<Session>();
  #maxSessions: number;
  #closing = false;
  #resolveFinished!: () => void;
  #drained: (() => void) | null = null;
  #loops: Promise<void>[] = [];
  #lastWarning = new Map<string, number>();
  #backoffWake: (() => void) | null = null;
  #cutGrace: (() => void) | null = null;
  #cutTimers: ReturnType<typeof setTimeout>[] = [];
  #signal: AbortSignal | undefined;

  constructor(
    options: ServeOptions & { network: Network; resolver: Resolver },
    gssapi: GssServerSettings | null,
  ) {
    this.#network = options.network;
    this.#resolver = options.resolver;
    // Acquired once at start from the keytab; a reload keeps it.
    this.#gssapi = gssapi;
    this.metrics = options.metrics ?? new MemoryMetrics();
    // The table (about 1.3 MB) is made when a limit first needs it.
    this.#counters = options.sharedLimits
      ? new SharedCounters(options.sharedLimits)
      : null;
    this.#addresses = _addresses(options);
    const { context, maxSessions } = this.#build(options, null);
    this.#context = context;
    this.#maxSessions = maxSessions;
    this.#signal = options.signal;
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
  }

  /**
   * Everything a reload may change, checked and built from the options:
   * users, rules, limits, timeouts, commands. The watchdog is kept.
   */
  #build(
    options: ServeOptions,
    previous: ServerContext | null,
  ): { context: ServerContext; maxSessions: number } {
    const credentials = options.credentials ??
      _credentials(options.users, previous?.credentials ?? null);
    const { timeouts, maxSessions, exposed } = _checked(
      options,
      credentials !== null || this.#gssapi !== null,
    );
    const blockInternal = options.blockInternalDestinations ??
      exposed.length > 0;
    let base: Ruleset = options.ruleset ?? permitAll;
    if (options.rules && options.rules.length > 0) {
      base = _chain(new AccessRules(options.rules, options.groups), base);
    }
    const ruleset: Ruleset = blockInternal
      ? blockInternalDestinations({
        allow: options.allowDestinations ?? [],
        next: base,
      })
      : base;
    const logger: Logger = options.logger ?? silentLogger;
    const externalAddress = options.externalAddress ?? null;
    const shortest = Math.min(
      ...Object.values(timeouts).filter((t) => t > 0),
      10_000,
    );
    const sourceAddress = _sourceAddress({
      ...options,
      network: this.#network,
    });
    const context: ServerContext = {
      credentials,
      gssapi: this.#gssapi,
      ruleset,
      outbound: options.outbound ?? new RoutedOutbound({
        direct: new DirectOutbound({
          network: this.#network,
          resolver: this.#resolver,
          ruleset,
          logger,
          externalAddress,
          udpLookupTimeout: timeouts.connect,
          sourceAddress,
          udpPortRange: options.udpPortRange ?? null,
        }),
        upstream: options.upstream ?? [],
        network: this.#network,
        resolver: this.#resolver,
        ruleset,
        sourceAddress,
      }),
      network: this.#network,
      logger,
      accessLog: options.accessLog ?? logger,
      metrics: this.metrics,
      timeouts,
      watchdog: previous?.watchdog ??
        new Watchdog(Math.max(10, Math.min(1_000, shortest / 10))),
      commands: {
        connect: true,
        bind: true,
        udpAssociate: true,
        ...options.commands,
      } satisfies CommandSwitches,
      externalAddress,
      advertisedAddress: options.advertisedAddress ?? null,
      udpPortRange: options.udpPortRange ?? null,
      udpFragments: options.udpFragments ?? false,
      authFailureDelay: options.authFailureDelay ?? 0,
      protocols: _protocols(options, {
        users: credentials !== null,
        gssapi: this.#gssapi !== null,
      }),
      proxyProtocolFrom: (options.proxyProtocolFrom ?? []).map(parseCidr),
      limits: this.#limits(options.limits ?? {}),
    };
    return { context, maxSessions };
  }

  #limits(settings: LimitSettings): Limits {
    if (!Object.values(settings).some((v) => v)) {
      return new Limits(settings, _NO_COUNTERS);
    }
    this.#counters ??= SharedCounters.create();
    return new Limits(settings, this.#counters);
  }

  /**
   * Swaps in new settings: sessions running keep the old ones, new sessions
   * get the new. Listeners for addresses no longer wanted are closed (their
   * sessions go on), new addresses are opened first. All or nothing: on any
   * error the old settings stay.
   */
  async reload(options: ServeOptions): Promise<void> {
    if (this.#closing) throw new Error("The server is shutting down");
    const { context, maxSessions } = this.#build(options, this.#context);
    const wanted = _addresses(options);
    const key = (a: { hostname: string; port: number }) =>
      `${a.hostname}|${a.port}`;
    const current = new Map(
      this.#addresses.map((a, i) => [key(a), this.#listeners[i]!]),
    );
    const opened: Listener[] = [];
    try {
      for (const address of wanted) {
        if (current.has(key(address))) continue;
        opened.push(
          await this.#network.listen({
            ...address,
            reusePort: this.#reusePort,
          }),
        );
      }
    } catch (error) {
      for (const listener of opened) closeQuietly(listener);
      throw error;
    }
    this.#context = context;
    this.#maxSessions = maxSessions;
    const keep = new Set(wanted.map(key));
    for (const [k, listener] of current) {
      if (keep.has(k)) continue;
      this.#retired.add(listener);
      closeQuietly(listener);
    }
    let next = 0;
    this.#listeners = wanted.map((address) =>
      current.get(key(address)) ?? opened[next++]!
    );
    this.#addresses = wanted;
    this.addrs = this.#listeners.map((l) => l.addr);
    for (const listener of opened) this.#startLoop(listener);
    this.generation++;
    this.loadedAt = new Date();
  }

  /** Binds every listener (all or none) and starts accepting. */
  async listen(network: Network, reusePort: boolean): Promise<void> {
    this.#reusePort = reusePort;
    try {
      for (const address of this.#addresses) {
        this.#listeners.push(await network.listen({ ...address, reusePort }));
      }
    } catch (error) {
      for (const listener of this.#listeners) closeQuietly(listener);
      this.#context.watchdog.close();
      throw error;
    }
    this.addrs = this.#listeners.map((l) => l.addr);
    // Every series exists from the start, so a rate() over it is defined
    // before the first failure.
    this.#precreateSeries();
    for (const listener of this.#listeners) this.#startLoop(listener);
    const route = this.#context.outbound;
    if (route instanceof RoutedOutbound && route.defaultChain.length > 0) {
      // Hops as their display form: credentials never reach the log.
      this.#context.logger.log("info", "upstream", {
        chain: route.defaultChain.join(" -> "),
      });
    }
    this.#signal?.addEventListener("abort", () => this.shutdown(), {
      once: true,
    });
    if (this.#signal?.aborted) this.shutdown();
  }

  #startLoop(listener: Listener): void {
    this.#context.logger.log("info", "listening", {
      address: formatAddress(
        toSocksAddress(listener.addr.hostname, listener.addr.port),
      ),
      auth: [
        ...(this.#gssapi ? ["gssapi"] : []),
        ...(this.#context.credentials ? ["username/password"] : []),
      ].join(", ") || "none",
    });
    this.#loops.push(this.#acceptLoop(listener));
  }

  get addr(): NetAddress {
    return this.addrs[0]!;
  }

  get activeSessions(): number {
    return this.#sessions.size;
  }

  get draining(): boolean {
    return this.#closing;
  }

  sessions(): SessionInfo[] {
    return [...this.#sessions].map((s) => s.info());
  }

  trafficInFlight(): TrafficInFlight[] {
    const out: TrafficInFlight[] = [];
    for (const session of this.#sessions) {
      if (session.counted) continue;
      const up = session.up.bytes, down = session.down.bytes;
      if (up === 0 && down === 0) continue;
      out.push({ ...session.trafficLabels(), up, down });
    }
    return out;
  }

  /**
   * Every series exists from the start, so a rate() over it is defined
   * before the first event: the failure kinds, drop reasons and, for
   * SOCKS5 without a user, each command's requests, replies and bytes.
   */
  #precreateSeries(): void {
    const m = this.metrics;
    for (const kind of ACCEPT_FAILURE_KINDS) {
      m.count("accept_errors_total", 0, kind);
    }
    for (const reason of UDP_DROP_REASONS) {
      m.count("udp_dropped_total", 0, reason);
    }
    m.count("sessions_rejected_total", 0, "max_sessions");
    m.count("udp_datagrams_total", 0, "up");
    m.count("udp_datagrams_total", 0, "down");
    const protocol = "socks5", user = "";
    for (const command of ["connect", "bind", "udp_associate"]) {
      m.count("requests_total", 0, { protocol, command, user });
      m.count("replies_total", 0, { protocol, command, code: "0" });
      for (const direction of ["up", "down"]) {
        m.count("relayed_bytes_total", 0, {
          direction,
          protocol,
          command,
          user,
        });
      }
    }
  }

  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.#closing) {
      // A later call can only shorten the grace (a second SIGTERM: "now").
      if (options.graceMs !== undefined && this.#cutGrace) {
        const cut = this.#cutGrace;
        if (options.graceMs === 0) cut();
        else this.#cutTimers.push(setTimeout(cut, options.graceMs));
      }
      return this.finished;
    }
    this.#closing = true;
    for (const listener of this.#listeners) closeQuietly(listener);
    this.#backoffWake?.();
    await Promise.all(this.#loops);
    if (this.#sessions.size > 0) {
      this.#context.logger.log("info", "draining", {
        sessions: this.#sessions.size,
      });
      const drained = new Promise<void>((resolve) => this.#drained = resolve);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.graceMs ?? 10_000);
        this.#cutGrace = resolve;
      });
      await Promise.race([drained, grace]);
      this.#cutGrace = null;
      clearTimeout(timer);
      for (const cutTimer of this.#cutTimers.splice(0)) clearTimeout(cutTimer);
      if (this.#sessions.size > 0) {
        this.#context.logger.log("warn", "closing sessions still running", {
          sessions: this.#sessions.size,
        });
        for (const session of this.#sessions) session.terminate();
        await drained;
      }
    }
    this.#context.watchdog.close();
    this.#gssapi?.credential.close();
    this.#context.logger.log("info", "stopped");
    this.#resolveFinished();
    return this.finished;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #acceptLoop(listener: Listener): Promise<void> {
    let backoff = 0;
    while (!this.#closing) {
      let conn;
      try {
        conn = await listener.accept();
        backoff = 0;
      } catch (error) {
        if (this.#closing || this.#retired.has(listener)) {
          this.#retired.delete(listener);
          return;
        }
        const kind = error instanceof NetError ? error.kind : "other";
        const action = acceptFailureAction(kind);
        if (action === "stop") return;
        this.metrics.count("accept_errors_total", 1, kind);
        const message = error instanceof Error ? error.message : String(error);
        if (action === "skip") {
          // One connection failed (a peer that reset before accept finished,
          // a pending network error): skip it at once. Pausing here would let
          // anyone lock every client out with a few resets.
          this.#warnAtMostEvery("accept skipped a failed connection", {
            kind,
            error: message,
          });
          continue;
        }
        // Out of file descriptors and similar: wait and retry instead of
        // spinning on an accept that fails at once.
        backoff = Math.min(
          backoff === 0 ? _BACKOFF_MIN_MS : backoff * 2,
          _BACKOFF_MAX_MS,
        );
        this.metrics.count("accept_pauses_total");
        this.#warnAtMostEvery("accept failed", {
          kind,
          error: message,
          retryMs: backoff,
        });
        await this.#sleep(backoff);
        continue;
      }
      if (this.#sessions.size >= this.#maxSessions) {
        closeQuietly(conn);
        this.metrics.count("sessions_rejected_total", 1, "max_sessions");
        this.#warnAtMostEvery("max sessions reached", {
          maxSessions: this.#maxSessions,
        });
        continue;
      }
      const context = this.#context;
      // A trusted balancer is not the client: its connections are admitted
      // by the address in their PROXY header, once the session has read it.
      const fromBalancer = context.proxyProtocolFrom.length > 0 &&
        context.proxyProtocolFrom.some((block) =>
          inBlock(conn.remoteAddr.hostname, block)
        );
      if (
        !fromBalancer &&
        !context.limits.admitConnection(canonicalIp(conn.remoteAddr.hostname))
      ) {
        closeQuietly(conn);
        this.metrics.count("sessions_rejected_total");
        this.#warnAtMostEvery("connection rate limit reached", {
          client: conn.remoteAddr.hostname,
        });
        continue;
      }
      const session = new Session(conn, context);
      const node = this.#sessions.add(session);
      // then(end, end) rather than finally(end), which wraps `end` in two
      // more functions and a promise per session.
      const end = () => {
        this.#sessions.remove(node);
        if (this.#sessions.size === 0) this.#drained?.();
      };
      session.run().then(end, end);
    }
  }

  #warnAtMostEvery(
    message: string,
    fields: Record<string, string | number>,
  ): void {
    const now = Date.now();
    if (now - (this.#lastWarning.get(message) ?? 0) < _WARN_INTERVAL_MS) return;
    this.#lastWarning.set(message, now);
    this.#context.logger.log("warn", message, fields);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(wake, ms);
      function wake() {
        clearTimeout(timer);
        resolve();
      }
      this.#backoffWake = wake;
    });
  }
}

/**
 * The protocols served. SOCKS4 cannot authenticate, so it needs explicit
 * consent once any method is configured; HTTP authenticates with Basic
 * against the users, so with GSS-API as the only method it is off (there is
 * no Negotiate here).
 */
function _protocols(
  options: ServeOptions,
  auth: { users: boolean; gssapi: boolean },
): ProtocolSwitches {
  const chosen = {
    socks5: true,
    socks4: true,
    http: true,
    ...options.protocols,
  };
  if ((auth.users || auth.gssapi) && !options.allowSocks4WithUsers) {
    chosen.socks4 = false;
  }
  if (auth.gssapi && !auth.users) chosen.http = false;
  if (!chosen.socks5 && !chosen.socks4 && !chosen.http) {
    throw new RangeError("Every protocol is disabled: nothing would be served");
  }
  return Object.freeze(chosen);
}

function _size(users: Record<string, string> | Map<string, string>): number {
  return users instanceof Map ? users.size : Object.keys(users).length;
}

/**
 * Checks server options the way starting (or reloading) a server would,
 * without opening anything: `socks5-deno check` reports what `serve` would
 * refuse.
 *
 * @param options The options.
 * @throws {TypeError} When a non-loopback address would be served without
 * authentication and `allowOpenProxy` is not set.
 * @throws {RangeError} For a bad limit, timeout, listen list or rule.
 */
export function checkServeOptions(options: ServeOptions): void {
  _checked(
    options,
    options.credentials !== undefined || options.gssapi !== undefined ||
      (options.users !== undefined && _size(options.users) > 0),
  );
  if (options.rules && options.rules.length > 0) {
    new AccessRules(options.rules, options.groups);
  }
}

function _checked(options: ServeOptions, authenticated: boolean): {
  timeouts: Timeouts;
  maxSessions: number;
  exposed: Array<{ hostname: string; port: number }>;
} {
  const exposed = _addresses(options).filter((a) => !isLoopback(a.hostname));
  if (exposed.length > 0 && !authenticated && !options.allowOpenProxy) {
    throw new TypeError(
      `Refusing to listen on ${exposed[0]!.hostname} without authentication: ` +
        "anyone who can reach it could use this proxy. Configure users, or " +
        "allow an open proxy explicitly (allowOpenProxy, --allow-open-proxy).",
    );
  }
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  for (const [name, value] of Object.entries(timeouts)) {
    if (!(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`Timeout "${name}" must be >= 0 ms, got ${value}`);
    }
  }
  const maxSessions = options.maxSessions ?? 10_000;
  if (!(Number.isInteger(maxSessions) && maxSessions > 0)) {
    throw new RangeError(
      `maxSessions must be a positive integer, got ${options.maxSessions}`,
    );
  }
  return { timeouts, maxSessions, exposed };
}

function _addresses(
  options: ServeOptions,
): Array<{ hostname: string; port: number }> {
  const listen = options.listen === undefined
    ? [{}]
    : Array.isArray(options.listen)
    ? options.listen
    : [options.listen];
  if (listen.length === 0) throw new RangeError("Nothing to listen on");
  return listen.map((l) => ({
    hostname: l.hostname ?? "127.0.0.1",
    port: l.port ?? 1080,
  }));
}

/** Users to a store; warm login digests carry over from `previous`. */
function _credentials(
  users: ServeOptions["users"],
  previous: CredentialStore | null,
): CredentialStore | null {
  if (!users || _size(users) === 0) return null;
  if (previous instanceof UserCredentials) {
    const next = new UserCredentials(users, previous.cacheKey);
    previous.carryCache(next);
    return next;
  }
  return new UserCredentials(users);
}

/** Both rulesets must permit; `first` is asked first. */
function _chain(first: Ruleset, then: Ruleset): Ruleset {
  if (then === permitAll) return first;
  return {
    async permits(request) {
      return await first.permits(request) && await then.permits(request);
    },
    async permitsAddress(request, address) {
      return await first.permitsAddress(request, address) &&
        await then.permitsAddress(request, address);
    },
  };
}
