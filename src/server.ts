/**
 * The server: listeners, the accept loop, session limits and graceful
 * shutdown.
 *
 * @module
 */

import {
  type CredentialStore,
  StaticCredentials,
} from "./auth/credential_store.ts";
import { closeQuietly } from "./io/close_quietly.ts";
import {
  ACCEPT_FAILURE_KINDS,
  acceptFailureNeedsPause,
  classifyAcceptFailure,
} from "./net/accept_failure.ts";
import { type Dialer, directDialer } from "./net/dialer.ts";
import { type Resolver, SystemResolver } from "./net/resolver.ts";
import { formatAddress, toSocksAddress } from "./protocol/address.ts";
import { isLoopback } from "./protocol/ip.ts";
import { type Logger, silentLogger } from "./observability/logger.ts";
import { MemoryMetrics, type Metrics } from "./observability/metrics.ts";
import { blockInternalDestinations } from "./rules/destination_policy.ts";
import { permitAll, type Ruleset } from "./rules/ruleset.ts";
import {
  type CommandSwitches,
  DEFAULT_TIMEOUTS,
  type ServerContext,
  type Timeouts,
} from "./server_context.ts";
import { Session } from "./session.ts";
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
   * @default {new SystemResolver()}
   */
  resolver?: Resolver;
  /**
   * Outbound connections.
   * @default {directDialer}
   */
  dialer?: Dialer;
  /**
   * Log sink; the library logs nothing by default.
   * @default {silentLogger}
   */
  logger?: Logger;
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
   * Set SO_REUSEPORT on listeners, so several processes can share a port.
   * @default {false}
   */
  reusePort?: boolean;
  /** Aborting it starts a graceful shutdown. */
  signal?: AbortSignal;
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
  readonly addr: Deno.NetAddr;
  /** Every listener's address, in `listen` order. */
  readonly addrs: readonly Deno.NetAddr[];
  /** Resolves when the server has shut down and every session has ended. */
  readonly finished: Promise<void>;
  /** Sessions in progress. */
  readonly activeSessions: number;
  /** The metrics the server reports to. */
  readonly metrics: Metrics;
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
const _BACKOFF_MAX_MS = 1_000;
const _WARN_INTERVAL_MS = 10_000;

/**
 * Starts a SOCKS5 server.
 *
 * @example
 * ```ts
 * import { serve } from "./server.ts";
 * await using server = serve({ listen: { hostname: "127.0.0.1", port: 0 } });
 * console.log(`SOCKS5 on port ${server.addr.port}`);
 * ```
 *
 * @param options Listen addresses, users, hooks and limits.
 * @returns The running server.
 * @throws {TypeError} When listening on a non-loopback address without
 * authentication and `allowOpenProxy` is not set.
 * @throws {RangeError} For invalid limits or timeouts.
 */
export function serve(options: ServeOptions = {}): Socks5Server {
  return new _Server(options);
}

class _Server implements Socks5Server {
  readonly addrs: readonly Deno.NetAddr[];
  readonly finished: Promise<void>;
  readonly metrics: Metrics;
  #context: ServerContext;
  #listeners: Deno.TcpListener[] = [];
  #sessions = new Set<Session>();
  #maxSessions: number;
  #closing = false;
  #resolveFinished!: () => void;
  #drained: (() => void) | null = null;
  #loops: Promise<void>[] = [];
  #lastWarning = new Map<string, number>();
  #backoffWake: (() => void) | null = null;

  constructor(options: ServeOptions) {
    const listen = options.listen === undefined
      ? [{}]
      : Array.isArray(options.listen)
      ? options.listen
      : [options.listen];
    if (listen.length === 0) throw new RangeError("Nothing to listen on");
    const addresses = listen.map((l) => ({
      hostname: l.hostname ?? "127.0.0.1",
      port: l.port ?? 1080,
    }));
    const credentials = options.credentials ??
      (options.users && _size(options.users) > 0
        ? new StaticCredentials(options.users)
        : null);
    const exposed = addresses.filter((a) => !isLoopback(a.hostname));
    if (exposed.length > 0 && !credentials && !options.allowOpenProxy) {
      throw new TypeError(
        `Refusing to listen on ${
          exposed[0]!.hostname
        } without authentication: ` +
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
    this.#maxSessions = options.maxSessions ?? 10_000;
    if (!(Number.isInteger(this.#maxSessions) && this.#maxSessions > 0)) {
      throw new RangeError(
        `maxSessions must be a positive integer, got ${options.maxSessions}`,
      );
    }
    const blockInternal = options.blockInternalDestinations ??
      exposed.length > 0;
    const ruleset = blockInternal
      ? blockInternalDestinations({
        allow: options.allowDestinations ?? [],
        next: options.ruleset ?? permitAll,
      })
      : options.ruleset ?? permitAll;
    const shortest = Math.min(
      ...Object.values(timeouts).filter((t) => t > 0),
      10_000,
    );
    this.metrics = options.metrics ?? new MemoryMetrics();
    this.#context = {
      credentials,
      ruleset,
      resolver: options.resolver ?? new SystemResolver(),
      dialer: options.dialer ?? directDialer,
      logger: options.logger ?? silentLogger,
      metrics: this.metrics,
      timeouts,
      watchdog: new Watchdog(Math.max(10, Math.min(1_000, shortest / 10))),
      commands: {
        connect: true,
        bind: true,
        udpAssociate: true,
        ...options.commands,
      },
      externalAddress: options.externalAddress ?? null,
      authFailureDelay: options.authFailureDelay ?? 0,
    };
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    try {
      for (const address of addresses) {
        this.#listeners.push(Deno.listen({
          ...address,
          transport: "tcp",
          reusePort: options.reusePort ?? false,
        }));
      }
    } catch (error) {
      for (const listener of this.#listeners) closeQuietly(listener);
      throw error;
    }
    this.addrs = this.#listeners.map((l) => l.addr);
    // Every series exists from the start, so a rate() over it is defined
    // before the first failure.
    for (const kind of ACCEPT_FAILURE_KINDS) {
      this.metrics.count("accept_errors_total", 0, kind);
    }
    for (const listener of this.#listeners) {
      this.#context.logger.log("info", "listening", {
        address: formatAddress(
          toSocksAddress(listener.addr.hostname, listener.addr.port),
        ),
        auth: credentials ? "username/password" : "none",
      });
      this.#loops.push(this.#acceptLoop(listener));
    }
    options.signal?.addEventListener("abort", () => this.shutdown(), {
      once: true,
    });
  }

  get addr(): Deno.NetAddr {
    return this.addrs[0]!;
  }

  get activeSessions(): number {
    return this.#sessions.size;
  }

  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.#closing) return this.finished;
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
      const grace = new Promise<void>((resolve) =>
        timer = setTimeout(resolve, options.graceMs ?? 10_000)
      );
      await Promise.race([drained, grace]);
      clearTimeout(timer);
      if (this.#sessions.size > 0) {
        this.#context.logger.log("warn", "closing sessions still running", {
          sessions: this.#sessions.size,
        });
        for (const session of this.#sessions) session.terminate();
        await drained;
      }
    }
    this.#context.watchdog.close();
    this.#context.logger.log("info", "stopped");
    this.#resolveFinished();
    return this.finished;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #acceptLoop(listener: Deno.TcpListener): Promise<void> {
    let backoff = 0;
    while (!this.#closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
        backoff = 0;
      } catch (error) {
        if (this.#closing) return;
        const kind = classifyAcceptFailure(error);
        this.metrics.count("accept_errors_total", 1, kind);
        const message = error instanceof Error ? error.message : String(error);
        if (!acceptFailureNeedsPause(kind)) {
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
      try {
        // Without it, Nagle's algorithm holds the second write of a split
        // message until the peer's delayed ACK (about 40 ms).
        conn.setNoDelay(true);
      } catch {
        // The peer is already gone; the session notices on its first read.
      }
      if (this.#sessions.size >= this.#maxSessions) {
        closeQuietly(conn);
        this.metrics.count("sessions_rejected_total");
        this.#warnAtMostEvery("max sessions reached", {
          maxSessions: this.#maxSessions,
        });
        continue;
      }
      const session = new Session(conn, this.#context);
      this.#sessions.add(session);
      session.run().finally(() => {
        this.#sessions.delete(session);
        if (this.#sessions.size === 0) this.#drained?.();
      });
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

function _size(users: Record<string, string> | Map<string, string>): number {
  return users instanceof Map ? users.size : Object.keys(users).length;
}
