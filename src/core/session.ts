/**
 * One client connection, from accept to close, read top to bottom: the
 * front door peeks the first byte and picks a front-end, the front-end reads
 * the handshake and yields a request with its responder, the command table
 * runs the request, the command's relay moves the bytes; then one access-log
 * line.
 *
 * @module
 */

import { COMMAND_HANDLERS } from "../commands/registry.ts";
import type {
  CommandContext,
  CommandName,
  CommandSettings,
  Responder,
} from "../commands/context.ts";
import type {
  AcceptedRequest,
  HandshakeProgress,
  HandshakeStage,
  ProxyProtocol,
} from "../frontends/front_end.ts";
import { readPrelude } from "../frontends/prelude.ts";
import { frontEndFor } from "../frontends/sniff.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Outbound } from "../outbound/outbound.ts";
import {
  formatAddress,
  formatHostPort,
  type SocksAddress,
} from "../protocol/address.ts";
import { Reply } from "../protocol/constants.ts";
import {
  ProtocolError,
  SocksError,
  UnexpectedEofError,
} from "../protocol/errors.ts";
import type { RateLimit, SessionLease } from "../policy/limits.ts";
import type { RuleRequest, Ruleset } from "../policy/ruleset.ts";
import { canonicalIp } from "../protocol/ip.ts";
import { NetError } from "../runtime/net_error.ts";
import type { Connection, NetAddress, Network } from "../runtime/transport.ts";
import { closeQuietly } from "./close_quietly.ts";
import type { DatagramProtection } from "./gss_protected_connection.ts";
import type { CommandSwitches, ServerContext } from "./context.ts";
import { FrameReader } from "./frame_reader.ts";
import type { ByteCounter } from "./relay.ts";
import { describeReply } from "./reply_for.ts";
import type { SessionInfo } from "./session_info.ts";
import type { Watched } from "./watchdog.ts";

/** How long a failed session may wait for the client's FIN after replying. */
const _LINGER_MS = 1_000;
/** How many bytes a failed session reads while lingering before it closes. */
const _LINGER_BYTES = 64 * 1024;

const _SWITCH_BY_COMMAND: Readonly<
  Record<CommandName, keyof CommandSwitches>
> = {
  connect: "connect",
  bind: "bind",
  udp_associate: "udpAssociate",
};

let _nextId = 1;

/**
 * A client session: it owns the connection and everything opened for it,
 * records what the access log reports, and is the context its command runs
 * with (commands see only the {@linkcode CommandContext} interface).
 */
export class Session implements Watched, CommandContext, HandshakeProgress {
  /** {@linkcode CommandContext}: how UDP datagrams are sealed, if at all. */
  datagramProtection: DatagramProtection | null = null;
  /** Client → destination payload bytes. */
  readonly up: ByteCounter = { bytes: 0 };
  /** Destination → client payload bytes. */
  readonly down: ByteCounter = { bytes: 0 };
  /** Bytes pipelined behind the request, to forward before anything else. */
  leftover: Uint8Array = _EMPTY;
  /** {@linkcode HandshakeProgress}: the stage reached. */
  stage: HandshakeStage | "command" = "greeting";
  /** {@linkcode HandshakeProgress}: the authenticated user. */
  user: string | null = null;
  /** {@linkcode HandshakeProgress}: the command as sent. */
  commandLabel: string | null = null;
  /** {@linkcode HandshakeProgress}: the destination as sent. */
  destination: SocksAddress | null = null;
  /** {@linkcode HandshakeProgress}: the last reply code sent. */
  reply: number | null = null;
  /** {@linkcode HandshakeProgress}: the request's responder, once made. */
  openResponder: Responder | null = null;
  /** {@linkcode CommandContext}: client → destination bandwidth limit. */
  upLimit: RateLimit | undefined = undefined;
  /** {@linkcode CommandContext}: destination → client bandwidth limit. */
  downLimit: RateLimit | undefined = undefined;
  /**
   * {@linkcode HandshakeProgress}: the protocol the client speaks, set when
   * the front door has sniffed it (`socks5` until then).
   */
  protocol: ProxyProtocol = "socks5";
  /** Unique within this process's thread. */
  readonly id: number = _nextId++;
  /** When the connection was accepted, ms since the epoch. */
  readonly startedAt: number = Date.now();
  /**
   * Set once the session's bytes are in the metrics, so a scrape between
   * that and its removal from the registry does not count them twice.
   */
  counted = false;

  #server: ServerContext;
  #conn: Connection;
  #view: Connection | null = null;
  #client: NetAddress;
  #request: RuleRequest | null = null;
  #controller = new AbortController();
  #owned = new Set<{ close(): void }>();
  #onExpire: (() => void) | null = null;
  /** The session's place under the session limits, released at its end. */
  #lease: SessionLease | null = null;
  #timedOut = false;

  /**
   * Creates the instance.
   *
   * @param conn An accepted client connection.
   * @param server Shared hooks and settings, captured for the session's life.
   */
  constructor(conn: Connection, server: ServerContext) {
    this.#conn = conn;
    this.#client = conn.remoteAddr;
    this.#server = server;
  }

  /**
   * {@linkcode CommandContext}: the client stream the command relays: the
   * connection, or the front-end's view of it (a forwarded HTTP request).
   */
  get client(): Connection {
    return this.#view ?? this.#conn;
  }

  /** {@linkcode HandshakeProgress}: the client, after any PROXY header. */
  get clientAddress(): NetAddress {
    return this.#client;
  }

  /** The server address the client reached (asked only when needed). */
  get local(): NetAddress {
    return this.#conn.localAddr;
  }

  /** {@linkcode CommandContext}: the request as rules see it. */
  get request(): RuleRequest {
    return this.#request!;
  }

  /** {@linkcode CommandContext}: answers the request. */
  get responder(): Responder {
    return this.openResponder!;
  }

  /** {@linkcode CommandContext}: the outbound route. */
  get outbound(): Outbound {
    return this.#server.outbound;
  }

  /** {@linkcode CommandContext}: sockets for the client side. */
  get network(): Network {
    return this.#server.network;
  }

  /** {@linkcode CommandContext}: access rules. */
  get ruleset(): Ruleset {
    return this.#server.ruleset;
  }

  /** {@linkcode CommandContext}: timeouts and addresses. */
  get settings(): CommandSettings {
    return this.#server;
  }

  /** {@linkcode CommandContext}: log sink. */
  get logger(): Logger {
    return this.#server.logger;
  }

  /** {@linkcode CommandContext}: counters. */
  get metrics(): Metrics {
    return this.#server.metrics;
  }

  /** Aborted when the session times out or is terminated. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** {@linkcode Watched}: any relayed byte counts as progress. */
  progress(): number {
    return this.up.bytes + this.down.bytes;
  }

  /** {@linkcode Watched}: runs the current stage's timeout action. */
  expire(): void {
    this.#timedOut = true;
    if (this.#onExpire) this.#onExpire();
    else this.terminate();
  }

  /** {@linkcode CommandContext}: arms the session's deadline. */
  deadline(timeoutMs: number, onExpire?: () => void): void {
    this.#timedOut = false;
    // No action given: terminate (see expire()), without a closure per call.
    this.#onExpire = onExpire ?? null;
    this.#server.watchdog.watch(this, timeoutMs);
  }

  /** {@linkcode CommandContext}: fails the step in progress with REP 06. */
  abortWithTimeout(what: string): void {
    this.#controller.abort(
      new DOMException(`${what} timed out`, "TimeoutError"),
    );
  }

  /** {@linkcode CommandContext}: closes `resource` when the session ends. */
  own<T extends { close(): void }>(resource: T): T {
    this.#owned.add(resource);
    return resource;
  }

  /** Ends the session now: aborts its signal and closes everything it owns. */
  terminate(): void {
    this.#controller.abort(
      new DOMException("Session terminated", "AbortError"),
    );
    this.#releaseAll();
  }

  /** Closes the connection and everything owned, and gives the lease back. */
  #releaseAll(): void {
    closeQuietly(this.#conn);
    for (const resource of this.#owned) closeQuietly(resource);
    this.#lease?.release();
  }

  /**
   * Runs the session to its end. Never rejects: every failure is answered,
   * logged and counted here.
   */
  async run(): Promise<void> {
    const { metrics } = this.#server;
    metrics.count("sessions_total");
    metrics.adjust("sessions_active", 1);
    let failure: unknown = null;
    try {
      this.deadline(
        this.#server.timeouts.handshake,
        () => closeQuietly(this.#conn),
      );
      await this.#runCommand(await this.#handshake());
    } catch (error) {
      failure = this.signal.aborted ? this.signal.reason : error;
      await this.#fail(failure);
    } finally {
      this.#server.watchdog.unwatch(this);
      this.#releaseAll();
      metrics.adjust("sessions_active", -1);
      this.#countEnd();
      this.#accessLog(failure);
    }
  }

  /** The session as `/api/sessions` shows it. */
  info(): SessionInfo {
    return {
      id: this.id,
      client: formatHostPort(this.#client.hostname, this.#client.port),
      user: this.user,
      protocol: this.protocol,
      command: this.commandLabel,
      destination: this.destination ? formatAddress(this.destination) : null,
      stage: this.stage,
      bytesUp: this.up.bytes,
      bytesDown: this.down.bytes,
      startedAt: this.startedAt,
    };
  }

  /** The labels this session's traffic is counted under. */
  trafficLabels(): { protocol: string; command: string; user: string } {
    const command = this.commandLabel;
    return {
      protocol: this.protocol,
      command: command === null
        ? "none"
        : command in _SWITCH_BY_COMMAND
        ? command
        : "unknown",
      user: this.user ?? "",
    };
  }

  /** Bytes, the final reply and the duration, once, when the session ends. */
  #countEnd(): void {
    const { metrics } = this.#server;
    const labels = this.trafficLabels();
    const { protocol, command, user } = labels;
    // Label objects written out, not spread: this runs once per session.
    if (this.up.bytes > 0) {
      metrics.count("relayed_bytes_total", this.up.bytes, {
        direction: "up",
        protocol,
        command,
        user,
      });
    }
    if (this.down.bytes > 0) {
      metrics.count("relayed_bytes_total", this.down.bytes, {
        direction: "down",
        protocol,
        command,
        user,
      });
    }
    if (this.reply !== null) {
      metrics.count("replies_total", 1, {
        protocol: labels.protocol,
        command: labels.command,
        code: String(this.reply),
      });
    }
    metrics.observe(
      "session_duration_seconds",
      (Date.now() - this.startedAt) / 1000,
    );
    this.counted = true;
  }

  /**
   * Reads the prelude and the front-end's handshake. Its own function so
   * that the frame reader (and its 1 KiB buffer) is garbage once the command
   * runs: a suspended async function keeps its locals, and an idle relayed
   * session would otherwise hold it to the end.
   */
  async #handshake(): Promise<AcceptedRequest> {
    const server = this.#server;
    const reader = new FrameReader(this.#conn);
    let accepted: AcceptedRequest | undefined;
    try {
      // Without trusted balancers there is no prelude: no extra await on
      // every connection.
      if (server.proxyProtocolFrom.length > 0) {
        const socket = this.#client;
        this.#client = await readPrelude(
          reader,
          socket,
          server.proxyProtocolFrom,
        );
        // The server admitted the balancer's connection unchecked: the
        // per-client connection rate applies to the client it names.
        if (
          this.#client !== socket &&
          !server.limits.admitConnection(canonicalIp(this.#client.hostname))
        ) {
          server.metrics.count("sessions_rejected_total");
          throw new ProtocolError(
            `Connection rate limit reached for ${this.#client.hostname}`,
          );
        }
      }
      const first = (await reader.peek(1))[0]!;
      const sniffed = frontEndFor(first, server.protocols);
      if (sniffed === null) {
        throw new ProtocolError(
          `Unsupported protocol: first byte 0x${
            first.toString(16).padStart(2, "0")
          }`,
        );
      }
      this.protocol = sniffed.protocol;
      accepted = await sniffed.frontEnd(
        reader,
        this.#conn,
        server,
        this,
        this.signal,
      );
    } finally {
      this.leftover = (accepted?.protection?.reader ?? reader).rest();
    }
    if (accepted.protection) {
      // From here on every byte, error replies included, goes through the
      // protecting wrapper.
      this.#conn = accepted.protection.connection;
      this.datagramProtection = accepted.protection.datagrams;
    }
    return accepted;
  }

  /** Checks the accepted request against limits and rules, then runs it. */
  async #runCommand(accepted: AcceptedRequest): Promise<void> {
    const server = this.#server;
    this.#view = accepted.client ?? null;
    this.stage = "command";
    server.metrics.count("requests_total", 1, {
      protocol: this.protocol,
      command: accepted.command,
      user: accepted.user ?? "",
    });
    this.#request = {
      client: this.#client,
      user: accepted.user,
      command: accepted.command,
      destination: accepted.destination,
      protocol: this.protocol,
    };
    const lease = server.limits.acquireSession(
      accepted.user,
      canonicalIp(this.#client.hostname),
    );
    if (typeof lease === "string") {
      throw new SocksError(
        Reply.NOT_ALLOWED,
        lease === "user"
          ? "Too many sessions for this user"
          : "Too many sessions from this client",
      );
    }
    this.#lease = lease;
    if (server.limits.shapesTraffic) {
      const rates = server.limits.sessionRates(accepted.user);
      this.upLimit = rates.up;
      this.downLimit = rates.down;
    }
    if (server.logger.enabled("debug")) {
      server.logger.log("debug", "request", {
        client: formatHostPort(this.#client.hostname, this.#client.port),
        user: accepted.user,
        protocol: this.protocol,
        command: accepted.command,
        destination: formatAddress(accepted.destination),
      });
    }
    if (!server.commands[_SWITCH_BY_COMMAND[accepted.command]]) {
      throw new SocksError(
        Reply.COMMAND_NOT_SUPPORTED,
        `Command ${accepted.command} is disabled`,
      );
    }
    if (!(await server.ruleset.permits(this.#request))) {
      throw new SocksError(
        Reply.NOT_ALLOWED,
        `Destination ${
          formatAddress(accepted.destination)
        } is not allowed by the ruleset`,
      );
    }
    await COMMAND_HANDLERS[accepted.command](this);
  }

  async #fail(error: unknown): Promise<void> {
    if (this.stage === "greeting" || this.stage === "auth") {
      this.#server.metrics.count("handshake_failures_total");
    }
    // A handshake that timed out is closed, not answered.
    if (this.#timedOut && this.stage !== "command") return;
    if (error instanceof UnexpectedEofError) return;
    if (
      this.stage !== "command" &&
      !(error instanceof SocksError || error instanceof NetError)
    ) {
      return; // Reading or writing the client failed: it is gone.
    }
    const responder = this.openResponder;
    if (responder && !responder.replied) {
      try {
        await responder.fail(error);
      } catch {
        return; // The client is gone; nothing to linger for.
      }
    }
    await this.#linger();
  }

  /**
   * Closes after a failure without destroying the last frame: the write side
   * is shut first and pending input drained briefly, because closing a socket
   * with unread input makes the kernel send RST, which can discard the reply
   * before the client reads it.
   */
  async #linger(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch {
      return;
    }
    const timer = setTimeout(() => closeQuietly(this.#conn), _LINGER_MS);
    try {
      const buffer = new Uint8Array(4096);
      let total = 0;
      while (total < _LINGER_BYTES) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        total += n;
      }
    } catch {
      // Closed by the timer or reset by the client: either way, done.
    } finally {
      clearTimeout(timer);
    }
  }

  #accessLog(failure: unknown): void {
    const logger = this.#server.accessLog;
    if (!logger.enabled("info")) return;
    let error: string | undefined;
    if (failure !== null) {
      error = this.#timedOut && this.stage !== "command"
        ? "Handshake timed out"
        : _message(failure);
    }
    logger.log("info", "session", {
      client: formatHostPort(this.#client.hostname, this.#client.port),
      user: this.user,
      protocol: this.protocol,
      command: this.commandLabel,
      destination: this.destination ? formatAddress(this.destination) : null,
      reply: this.reply,
      replyText: this.reply === null ? undefined : describeReply(this.reply),
      bytesUp: this.up.bytes,
      bytesDown: this.down.bytes,
      durationMs: Date.now() - this.startedAt,
      rule: this.#request?.matchedRule,
      stage: failure === null ? undefined : this.stage,
      error,
    });
  }
}

const _EMPTY = new Uint8Array(0);

function _message(error: unknown): string {
  if (error instanceof UnexpectedEofError) {
    return "Client closed the connection mid-handshake";
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
