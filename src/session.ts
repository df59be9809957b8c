/**
 * One client connection, from greeting to close: a small state machine
 * (greeting → auth → request → command) followed by the command's handler.
 *
 * @module
 */

import { handleBind } from "./commands/bind.ts";
import { handleConnect } from "./commands/connect.ts";
import { handleUdpAssociate } from "./commands/udp_associate.ts";
import {
  describeReply,
  ProtocolError,
  replyFor,
  SocksError,
} from "./errors.ts";
import { closeQuietly } from "./io/close_quietly.ts";
import { FrameReader } from "./io/frame_reader.ts";
import { type ByteCounter, writeAll } from "./io/relay.ts";
import { resolveWithin } from "./net/resolver.ts";
import {
  formatAddress,
  formatHostPort,
  type SocksAddress,
} from "./protocol/address.ts";
import {
  Command,
  COMMAND_NAMES,
  Method,
  Reply,
  USERPASS_FAILURE,
  USERPASS_SUCCESS,
} from "./protocol/constants.ts";
import { encodeMethodChoice, readGreeting } from "./protocol/greeting.ts";
import { canonicalIp, ipFamily } from "./protocol/ip.ts";
import { encodeReply, readRequest } from "./protocol/request.ts";
import {
  encodeUserPassReply,
  readUserPassRequest,
} from "./protocol/userpass.ts";
import type { RuleRequest } from "./rules/ruleset.ts";
import type { ServerContext } from "./server_context.ts";
import type { Watched } from "./watchdog.ts";

/** Where a session is; the access log reports the last stage reached. */
export type SessionStage = "greeting" | "auth" | "request" | "command" | "done";

/** How long a failed session may wait for the client's FIN after replying. */
const _LINGER_MS = 1_000;
/** How many bytes a failed session reads while lingering before it closes. */
const _LINGER_BYTES = 64 * 1024;

/**
 * A client session. Command handlers get it as their context: it carries the
 * request, the hooks, the deadlines and everything the session owns.
 */
export class Session implements Watched {
  /** The client connection. */
  readonly conn: Deno.TcpConn;
  /** The client's address. */
  readonly client: Deno.NetAddr;
  /** The server address the client reached. */
  readonly local: Deno.NetAddr;
  /** Shared hooks and settings. */
  readonly server: ServerContext;
  /** Client → destination payload bytes. */
  readonly up: ByteCounter = { bytes: 0 };
  /** Destination → client payload bytes. */
  readonly down: ByteCounter = { bytes: 0 };
  /** Bytes pipelined behind the request, to forward before anything else. */
  leftover: Uint8Array = new Uint8Array(0);
  /** The authenticated user, if any. */
  user: string | null = null;
  /** The request's command byte, once read. */
  command: number | null = null;
  /** The request's destination, once read. */
  destination: SocksAddress | null = null;
  /** The last reply code sent, if any. */
  reply: number | null = null;

  #stage: SessionStage = "greeting";
  #controller = new AbortController();
  #owned = new Set<{ close(): void }>();
  #onExpire: (() => void) | null = null;
  #awaitingReply = false;
  #startedAt = Date.now();
  #timedOut = false;

  /**
   * Creates the instance.
   *
   * @param conn An accepted client connection.
   * @param server Shared hooks and settings.
   */
  constructor(conn: Deno.TcpConn, server: ServerContext) {
    this.conn = conn;
    this.client = conn.remoteAddr;
    this.local = conn.localAddr;
    this.server = server;
  }

  /** Aborted when the session times out or is terminated. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The request as rulesets see it (valid once the request is read). */
  get ruleRequest(): RuleRequest {
    return {
      client: this.client,
      user: this.user,
      command: (COMMAND_NAMES[this.command ?? 0] ?? "connect") as RuleRequest[
        "command"
      ],
      destination: this.destination!,
    };
  }

  /** {@linkcode Watched}: any relayed byte counts as progress. */
  progress(): number {
    return this.up.bytes + this.down.bytes;
  }

  /** {@linkcode Watched}: runs the current stage's timeout action. */
  expire(): void {
    this.#timedOut = true;
    this.#onExpire?.();
  }

  /**
   * Arms the session's deadline, replacing the previous one.
   *
   * @param timeoutMs How long without progress; 0 disables.
   * @param onExpire What to do then; by default the session is terminated.
   */
  deadline(timeoutMs: number, onExpire?: () => void): void {
    this.#timedOut = false;
    this.#onExpire = onExpire ?? (() => this.terminate());
    this.server.watchdog.watch(this, timeoutMs);
  }

  /**
   * Aborts the session's signal with a timeout, so the step in progress fails
   * with REP X'06' (TTL expired) and the session can still reply.
   *
   * @param what What timed out, for the message.
   */
  abortWithTimeout(what: string): void {
    this.#controller.abort(
      new DOMException(`${what} timed out`, "TimeoutError"),
    );
  }

  /**
   * Registers a resource the session closes when it ends (or is
   * terminated).
   *
   * @param resource A connection, listener or socket.
   * @returns The same resource.
   */
  own<T extends { close(): void }>(resource: T): T {
    this.#owned.add(resource);
    return resource;
  }

  /** Ends the session now: aborts its signal and closes everything it owns. */
  terminate(): void {
    this.#controller.abort(
      new DOMException("Session terminated", "AbortError"),
    );
    closeQuietly(this.conn);
    for (const resource of this.#owned) closeQuietly(resource);
  }

  /**
   * Sends a reply. Every reply is a complete RFC 1928 reply.
   *
   * @param reply The REP byte.
   * @param bound BND.ADDR/BND.PORT.
   * @param final `false` for BIND's first reply, after which a second reply
   * (success or failure) is still owed.
   */
  async sendReply(
    reply: Reply,
    bound?: SocksAddress,
    final = true,
  ): Promise<void> {
    this.#awaitingReply = !final;
    this.reply = reply;
    this.server.metrics.count("replies_total", 1, String(reply));
    await writeAll(this.conn, encodeReply(reply, bound));
  }

  /**
   * Resolves the destination into the addresses the ruleset permits.
   *
   * @param destination A requested address.
   * @returns Canonical IP literals, best first.
   * @throws {SocksError} REP X'04' when the name does not resolve, X'02'
   * when the ruleset refuses every address.
   */
  async resolve(destination: SocksAddress): Promise<string[]> {
    const host = destination.host;
    const addresses = ipFamily(host) !== null
      ? [canonicalIp(host)]
      : (await resolveWithin(this.server.resolver, host, this.signal)).map(
        canonicalIp,
      );
    const permitted: string[] = [];
    for (const address of addresses) {
      if (await this.server.ruleset.permitsAddress(this.ruleRequest, address)) {
        permitted.push(address);
      }
    }
    if (permitted.length === 0) {
      throw new SocksError(
        Reply.NOT_ALLOWED,
        `Destination ${
          formatAddress(destination)
        } is not allowed by the ruleset`,
      );
    }
    return permitted;
  }

  /**
   * Runs the session to its end. Never rejects: every failure is answered,
   * logged and counted here.
   */
  async run(): Promise<void> {
    const { metrics } = this.server;
    metrics.count("sessions_total");
    metrics.adjust("sessions_active", 1);
    let failure: unknown = null;
    try {
      this.deadline(
        this.server.timeouts.handshake,
        () => closeQuietly(this.conn),
      );
      await this.#handshake();
      this.#stage = "command";
      await this.#dispatch();
    } catch (error) {
      failure = this.signal.aborted ? this.signal.reason : error;
      await this.#fail(failure);
    } finally {
      this.server.watchdog.unwatch(this);
      closeQuietly(this.conn);
      for (const resource of this.#owned) closeQuietly(resource);
      metrics.adjust("sessions_active", -1);
      metrics.count("bytes_up_total", this.up.bytes);
      metrics.count("bytes_down_total", this.down.bytes);
      this.#accessLog(failure);
      this.#stage = "done";
    }
  }

  async #handshake(): Promise<void> {
    const reader = new FrameReader(this.conn);
    try {
      const methods = await readGreeting(reader);
      const wanted = this.server.credentials ? Method.USERPASS : Method.NO_AUTH;
      if (!methods.includes(wanted)) {
        await writeAll(this.conn, encodeMethodChoice(Method.NO_ACCEPTABLE));
        throw new ProtocolError(
          `No acceptable authentication method offered (wanted 0x0${wanted}, got [${
            [...methods].map((m) => `0x${m.toString(16).padStart(2, "0")}`)
              .join(", ")
          }])`,
        );
      }
      await writeAll(this.conn, encodeMethodChoice(wanted));
      if (this.server.credentials) {
        this.#stage = "auth";
        await this.#authenticate(reader);
      }
      this.#stage = "request";
      const request = await readRequest(reader);
      this.command = request.command;
      this.destination = request.destination;
      this.#awaitingReply = true;
    } finally {
      this.leftover = reader.rest();
    }
  }

  async #authenticate(reader: FrameReader): Promise<void> {
    let accepted = false;
    let username = "";
    try {
      const credentials = await readUserPassRequest(reader);
      username = credentials.username;
      const verdict = this.server.credentials!.verify(
        credentials.username,
        credentials.password,
      );
      // The default store answers synchronously; skip the extra turn then.
      accepted = typeof verdict === "boolean" ? verdict : await verdict;
      credentials.password.fill(0);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
    }
    if (!accepted) {
      this.server.metrics.count("auth_failures_total");
      if (this.server.authFailureDelay > 0) {
        await _sleep(this.server.authFailureDelay, this.signal);
      }
      await writeAll(this.conn, encodeUserPassReply(USERPASS_FAILURE));
      // The attempted username is not logged: users sometimes type their
      // password into it.
      throw new SocksError(Reply.NOT_ALLOWED, "Authentication failed");
    }
    await writeAll(this.conn, encodeUserPassReply(USERPASS_SUCCESS));
    this.user = username;
  }

  async #dispatch(): Promise<void> {
    const { commands, ruleset } = this.server;
    const command = this.command!;
    const enabled = (command === Command.CONNECT && commands.connect) ||
      (command === Command.BIND && commands.bind) ||
      (command === Command.UDP_ASSOCIATE && commands.udpAssociate);
    if (!enabled) {
      throw new SocksError(
        Reply.COMMAND_NOT_SUPPORTED,
        `Command 0x${command.toString(16).padStart(2, "0")} is not supported`,
      );
    }
    if (!(await ruleset.permits(this.ruleRequest))) {
      throw new SocksError(
        Reply.NOT_ALLOWED,
        `Destination ${
          formatAddress(this.destination!)
        } is not allowed by the ruleset`,
      );
    }
    if (command === Command.CONNECT) await handleConnect(this);
    else if (command === Command.BIND) await handleBind(this);
    else await handleUdpAssociate(this);
  }

  async #fail(error: unknown): Promise<void> {
    if (this.#stage === "greeting" || this.#stage === "auth") {
      this.server.metrics.count("handshake_failures_total");
    }
    if (this.#timedOut && this.#stage !== "command") return;
    if (_isGone(error)) return;
    if (this.#awaitingReply || this.#stage === "request") {
      try {
        await this.sendReply(replyFor(error));
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
      await this.conn.closeWrite();
    } catch {
      return;
    }
    const timer = setTimeout(() => closeQuietly(this.conn), _LINGER_MS);
    try {
      const buffer = new Uint8Array(4096);
      let total = 0;
      while (total < _LINGER_BYTES) {
        const n = await this.conn.read(buffer);
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
    const { logger } = this.server;
    if (!logger.enabled("info")) return;
    let error: string | undefined;
    if (failure !== null) {
      error = this.#timedOut && this.#stage !== "command"
        ? "Handshake timed out"
        : _message(failure);
    }
    logger.log("info", "session", {
      client: formatHostPort(this.client.hostname, this.client.port),
      user: this.user,
      command: this.command === null
        ? null
        : COMMAND_NAMES[this.command] ?? `0x${this.command.toString(16)}`,
      destination: this.destination ? formatAddress(this.destination) : null,
      reply: this.reply,
      replyText: this.reply === null ? undefined : describeReply(this.reply),
      bytesUp: this.up.bytes,
      bytesDown: this.down.bytes,
      durationMs: Date.now() - this.#startedAt,
      stage: failure === null ? undefined : this.#stage,
      error,
    });
  }
}

function _isGone(error: unknown): boolean {
  return error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted;
}

function _message(error: unknown): string {
  if (error instanceof Deno.errors.UnexpectedEof) {
    return "Client closed the connection mid-handshake";
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

function _sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
