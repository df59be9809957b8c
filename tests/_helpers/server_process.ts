/**
 * Runs the real server as a user would (`deno run ... main.ts`, Bun on the
 * source, or the single executable) and reads its
 * JSON log lines from stderr: "listening" lines give the ports, "session"
 * lines (the access log) prove that a client's traffic crossed the proxy.
 *
 * @module
 */
import {
  commandLine,
  DENO_SERVER,
  REPO_ROOT,
  type ServerCommand,
} from "./server_commands.ts";
import { settleWithin } from "./wait.ts";

export { REPO_ROOT };

/** One access-log line, as the CLI contract defines it. */
export interface SessionLog {
  level: string;
  msg: "session";
  client: string;
  /** The protocol the client spoke: socks5, socks4 or http. */
  protocol?: string;
  user: string | null;
  command: "connect" | "bind" | "udp_associate" | null;
  destination: string | null;
  reply: number | null;
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
  /** The access rule that decided, when rules are configured. */
  rule?: string;
  /** Why the session failed, when it did. */
  error?: string;
  /** How far a failed session got: `greeting`, `auth`, `request` or `command`. */
  stage?: string;
}

/** Options for {@link ServerProcess.start}. */
export interface ServerProcessOptions {
  /**
   * How to start it.
   * @default the Deno command (`deno run ... main.ts`)
   */
  server?: ServerCommand;
  /**
   * `--listen` values, one listener each.
   * @default ["127.0.0.1:0"]
   */
  listen?: string[];
  /**
   * `--user NAME:PASS` values; none means no authentication.
   * @default []
   */
  users?: string[];
  /**
   * Further CLI flags, appended as given.
   * @default []
   */
  args?: string[];
  /**
   * Extra environment variables (the Kerberos realm's, for GSS-API).
   * @default {}
   */
  env?: Record<string, string>;
  /**
   * Add `--allow-ffi` to the Deno command (GSS-API loads its library by
   * FFI); Bun and the executable need no flag.
   * @default false
   */
  allowFfi?: boolean;
  /**
   * How long to wait for every "listening" line. Generous because the first
   * `deno run` in a fresh cache also downloads and compiles dependencies.
   * @default 30_000
   */
  startTimeoutMs?: number;
}

/** A filter over access-log lines; every given field must match. */
export interface SessionQuery {
  /** Exact `command`. */
  command?: SessionLog["command"];
  /**
   * Destination host (IP literal or name, IPv6 with or without brackets)
   * and port; compared after stripping IPv6 brackets.
   */
  destination?: { host: string; port: number };
  /** Exact `reply` code. */
  reply?: number | null;
  /** Exact `user`. */
  user?: string | null;
  /** Exact `protocol`. */
  protocol?: string;
  /** The client's host (IP literal, no brackets), whatever its port. */
  clientHost?: string;
  /** Exact `error`. */
  error?: string;
  /** Lower bound on `bytesUp`. */
  minBytesUp?: number;
  /** Lower bound on `bytesDown`. */
  minBytesDown?: number;
}

/** How long {@link ServerProcess.waitForSession} waits by default. */
const SESSION_TIMEOUT_MS = 10_000;

/** How long a graceful shutdown may take before the test calls it hung. */
const STOP_TIMEOUT_MS = 15_000;

/** The server child process and what it has logged so far. */
export class ServerProcess implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #lines: string[] = [];
  #sessions: SessionLog[] = [];
  #listening: string[] = [];
  #waiters = new Set<() => void>();
  #reading: Promise<void>;
  #stdout: Promise<string>;
  #stopped: Promise<void> | undefined;
  #exited = false;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#reading = this.#readStderr();
    this.#stdout = new Response(child.stdout).text();
    // Exited only once stderr is read to its end too: the exit can be
    // reported before the last lines (the "stopped" one) have been read.
    Promise.all([child.status, this.#reading.catch(() => {})]).then(() => {
      this.#exited = true;
      this.#wake();
    });
  }

  /**
   * Starts `main.ts --log-format json` on the given listeners and resolves
   * once each has logged "listening".
   */
  static async start(
    options: ServerProcessOptions = {},
  ): Promise<ServerProcess> {
    const listen = options.listen ?? ["127.0.0.1:0"];
    const chosen = options.server ?? DENO_SERVER;
    const server = options.allowFfi && chosen.name === "deno"
      ? {
        ...chosen,
        prefix: [chosen.prefix[0]!, "--allow-ffi", ...chosen.prefix.slice(1)],
      }
      : chosen;
    const { program, args } = commandLine(server, [
      ...listen.flatMap((address) => ["--listen", address]),
      ...(options.users ?? []).flatMap((user) => ["--user", user]),
      "--log-format",
      "json",
      ...(options.args ?? []),
    ]);
    const child = new Deno.Command(program, {
      args,
      // From the repo root, as a user would: deno.json there enables the
      // unstable UDP API the server needs.
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...options.env },
    }).spawn();
    const started = new ServerProcess(child);
    try {
      await started.#until(
        () => started.#listening.length >= listen.length,
        options.startTimeoutMs ?? 30_000,
        `${listen.length} "listening" line(s)`,
      );
    } catch (error) {
      await started.#kill();
      throw error;
    }
    return started;
  }

  /** Addresses from the "listening" lines, e.g. `127.0.0.1:41234`, `[::1]:41235`. */
  get addresses(): string[] {
    return [...this.#listening];
  }

  /** The server's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Port of the first listener. */
  get port(): number {
    return this.portOf(0);
  }

  /** Port of the `index`th listener, in the order the lines arrived. */
  portOf(index: number): number {
    const address = this.#listening[index];
    if (address === undefined) throw new RangeError(`No listener #${index}`);
    return Number(address.slice(address.lastIndexOf(":") + 1));
  }

  /** The access-log lines seen so far. */
  get sessions(): SessionLog[] {
    return [...this.#sessions];
  }

  /**
   * Sends a signal to the server (SIGSTOP/SIGCONT to freeze it, SIGHUP, …).
   *
   * @param signal The signal.
   */
  signal(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /** Every JSON log line so far, parsed. */
  get events(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.#lines) {
      try {
        const event = JSON.parse(line);
        if (typeof event === "object" && event !== null) out.push(event);
      } catch {
        // Not a log line of the server's.
      }
    }
    return out;
  }

  /** Everything the server wrote to stderr so far, for failure messages. */
  get log(): string {
    return this.#lines.join("\n");
  }

  /** Access-log lines matching `query`. */
  findSessions(query: SessionQuery): SessionLog[] {
    return this.#sessions.filter((session) => _matches(session, query));
  }

  /**
   * Waits for an access-log line matching `query` (sessions are logged when
   * they end, so close the client first) and returns it.
   */
  async waitForSession(
    query: SessionQuery,
    timeoutMs = SESSION_TIMEOUT_MS,
  ): Promise<SessionLog> {
    await this.#until(
      () => this.findSessions(query).length > 0,
      timeoutMs,
      `a session matching ${JSON.stringify(query)}`,
    );
    return this.findSessions(query)[0]!;
  }

  /**
   * Waits for a log line with message `msg` and returns it.
   *
   * @param msg The `msg` field.
   * @param timeoutMs The hang bound.
   */
  async waitForEvent(
    msg: string,
    timeoutMs = SESSION_TIMEOUT_MS,
  ): Promise<Record<string, unknown>> {
    const find = () => this.events.find((e) => e.msg === msg);
    await this.#until(() => find() !== undefined, timeoutMs, `a "${msg}" line`);
    return find()!;
  }

  /** Waits until at least `count` access-log lines have arrived. */
  async waitForSessionCount(
    count: number,
    timeoutMs = SESSION_TIMEOUT_MS,
  ): Promise<void> {
    await this.#until(
      () => this.#sessions.length >= count,
      timeoutMs,
      `${count} session line(s)`,
    );
  }

  /**
   * Sends SIGTERM and waits for the process to exit; throws unless it exits
   * with status 0 within {@link STOP_TIMEOUT_MS} (the contract's graceful
   * shutdown).
   */
  stop(): Promise<void> {
    return this.#stopped ??= this.#stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Already exited (its status may not have been read yet).
    }
    const status = await settleWithin(this.#child.status, STOP_TIMEOUT_MS);
    if (status === undefined) {
      await this.#kill();
      throw new Error(
        `Server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${this.log}`,
      );
    }
    await this.#reading;
    const stdout = await this.#stdout;
    if (status.code !== 0) {
      throw new Error(
        `Server exited with code ${status.code} (signal ${status.signal}) ` +
          `after SIGTERM\nstderr:\n${this.log}\nstdout:\n${stdout}`,
      );
    }
  }

  async #kill(): Promise<void> {
    if (!this.#exited) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // It exited between the check and the kill.
      }
    }
    await this.#child.status;
    await this.#reading;
    await this.#stdout;
  }

  async #readStderr(): Promise<void> {
    let pending = "";
    const decoder = new TextDecoderStream();
    for await (const text of this.#child.stderr.pipeThrough(decoder)) {
      pending += text;
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        this.#onLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    }
    if (pending) this.#onLine(pending);
  }

  #onLine(line: string): void {
    this.#lines.push(line);
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      return; // Deno's own warnings are not JSON; they stay in the log text.
    }
    if (typeof event !== "object" || event === null) return;
    const { msg } = event as { msg?: unknown };
    if (msg === "listening") {
      const { address } = event as { address?: unknown };
      if (typeof address === "string") this.#listening.push(address);
    } else if (msg === "session") {
      this.#sessions.push(event as SessionLog);
    }
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#waiters) waiter();
  }

  /** Resolves when `ready()` holds; rejects on timeout or process exit. */
  #until(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (ready()) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const done = () => {
      clearTimeout(timer);
      this.#waiters.delete(check);
    };
    const check = () => {
      if (ready()) {
        done();
        resolve();
      } else if (this.#exited) {
        done();
        reject(new Error(`Server exited before ${what}\n${this.log}`));
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new Error(
          `Timed out after ${timeoutMs} ms waiting for ${what}\n${this.log}`,
        ),
      );
    }, timeoutMs);
    this.#waiters.add(check);
    return promise;
  }
}

/** Splits `host:port` / `[v6]:port` into a bracket-free host and a port. */
export function splitHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(address.slice(colon + 1)) };
}

function _matches(session: SessionLog, query: SessionQuery): boolean {
  if (query.command !== undefined && session.command !== query.command) {
    return false;
  }
  if (query.reply !== undefined && session.reply !== query.reply) return false;
  if (query.user !== undefined && session.user !== query.user) return false;
  if (query.protocol !== undefined && session.protocol !== query.protocol) {
    return false;
  }
  if (query.error !== undefined && session.error !== query.error) return false;
  if (
    query.clientHost !== undefined &&
    splitHostPort(session.client).host !== query.clientHost
  ) {
    return false;
  }
  if (
    query.minBytesUp !== undefined && !(session.bytesUp >= query.minBytesUp)
  ) {
    return false;
  }
  if (
    query.minBytesDown !== undefined &&
    !(session.bytesDown >= query.minBytesDown)
  ) {
    return false;
  }
  if (query.destination !== undefined) {
    if (session.destination === null) return false;
    const { host, port } = splitHostPort(session.destination);
    const wanted = query.destination.host.replace(/^\[(.*)\]$/, "$1");
    if (host.toLowerCase() !== wanted.toLowerCase()) return false;
    if (port !== query.destination.port) return false;
  }
  return true;
}
