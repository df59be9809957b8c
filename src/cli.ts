/**
 * Command-line parsing: flags to server options. Pure: no I/O but reading a
 * users file through the injected `readTextFile`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseUsersFile } from "./auth/users_file.ts";
import { LOG_LEVELS, type LogLevel } from "./observability/logger.ts";
import { parseCidr } from "./rules/destination_policy.ts";
import type { ListenAddress, ServeOptions } from "./server.ts";
import type { Timeouts } from "./server_context.ts";

/** The program's version, printed by `--version`. */
export const VERSION = "0.1.0";

/** A bad command line: the message names the flag. Exit code 2. */
export class UsageError extends Error {
  /**
   * Creates the instance.
   *
   * @param message One line naming the flag and the bad value.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Everything the command line decides. */
export interface CliConfig {
  /** What to do. */
  action: "serve" | "help" | "version";
  /** Server options (without logger, metrics, signal: the caller adds those). */
  serve: ServeOptions;
  /** Lowest log level printed. */
  logLevel: LogLevel;
  /** Log line format. */
  logFormat: "text" | "json";
  /** How long sessions may drain on SIGINT/SIGTERM, in ms. */
  graceMs: number;
  /** Where to serve Prometheus metrics, if anywhere. */
  metricsListen: ListenAddress | null;
  /** How many event loops (Web Workers sharing the port); 1 = in-process. */
  workers: number;
}

/** The `--help` text. */
export const HELP =
  `socks5-deno ${VERSION}: a SOCKS5 proxy server (RFC 1928, RFC 1929)

Usage: deno run --allow-net main.ts [options]
       (add --allow-read for --users-file)

Listening and authentication:
  --listen HOST:PORT        Address to listen on; repeat for several.
                            IPv6 in brackets: [::1]:1080. Default 127.0.0.1:1080.
  --user NAME:PASS          Require username/password auth and add this user;
                            repeatable. Prefer --users-file: flags show in ps.
  --users-file PATH         Users, one "name:password" per line, # comments.
  --allow-open-proxy        Allow a non-loopback --listen without any user.

Access and commands:
  --destination-policy P    auto | block-internal | allow-all. block-internal
                            refuses loopback, private, link-local and cloud
                            metadata destinations. auto (default) blocks them
                            when any --listen address is not loopback.
  --allow-destination CIDR  Exempt a block from block-internal; repeatable.
  --disable CMD             Refuse a command (connect, bind, udp) with REP 07;
                            repeatable.
  --external-address IP     Address for BIND listeners and UDP relay sockets
                            (default: the address the client connected to).

Timeouts (a number with unit ms, s, m or h; a bare number is seconds; 0 = none):
  --handshake-timeout T     Greeting to request. Default 10s.
  --connect-timeout T       Resolving and connecting. Default 10s.
  --idle-timeout T          Relayed TCP connection without traffic. Default 1h.
  --bind-timeout T          BIND waiting for its peer. Default 60s.
  --udp-timeout T           UDP association without datagrams. Default 2m.
  --shutdown-grace T        Draining on SIGINT/SIGTERM. Default 10s.

Limits:
  --max-sessions N          Concurrent sessions; more are closed at once.
                            Default 10000.
  --auth-failure-delay T    Delay before answering a failed login. Default 0.

Observability:
  --log-level LEVEL         debug | info | warn | error. Default info.
                            info logs one access line per session.
  --log-format FORMAT       text | json. Default text. Logs go to stderr.
  --metrics HOST:PORT       Serve Prometheus metrics at http://HOST:PORT/metrics.

Performance:
  --workers N               Run N event loops (Web Workers sharing the port
                            with SO_REUSEPORT, Linux). Default 1. Limits such
                            as --max-sessions apply per worker.

  --help                    Show this help.
  --version                 Show the version.
`;

/**
 * Parses `HOST:PORT`, with IPv6 hosts in brackets.
 *
 * @param text For example `127.0.0.1:1080`, `[::1]:0`, `localhost:1080`.
 * @param flag The flag, for the error message.
 * @returns The address.
 * @throws {UsageError} When it is not a host and a port 0–65535.
 */
export function parseHostPort(
  text: string,
  flag: string,
): Required<ListenAddress> {
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new UsageError(
      `${flag}: expected HOST:PORT (IPv6 as [ADDR]:PORT), got ${
        JSON.stringify(text)
      }`,
    );
  }
  return { hostname: match[1] ?? match[2]!, port };
}

/**
 * Parses a duration: a number with unit `ms`, `s`, `m` or `h`; a bare number
 * is seconds.
 *
 * @param text For example `500ms`, `10s`, `2m`, `30`.
 * @param flag The flag, for the error message.
 * @returns Milliseconds.
 * @throws {UsageError} When it is not a non-negative duration.
 */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) {
    throw new UsageError(
      `${flag}: expected a duration like 500ms, 10s, 2m or 1h, got ${
        JSON.stringify(text)
      }`,
    );
  }
  const scale = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] ?? "s"]!;
  return Math.round(Number(match[1]) * scale);
}

const _UNEXPECTED_POSITIONAL = "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL";

/**
 * Turns command-line arguments into a configuration.
 *
 * @param args The arguments, without the program name.
 * @param readTextFile Reads the users file.
 * @returns The configuration.
 * @throws {UsageError} For any bad flag or value, naming the flag.
 */
export async function parseCli(
  args: readonly string[],
  readTextFile: (path: string) => Promise<string>,
): Promise<CliConfig> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: "string", multiple: true },
        user: { type: "string", multiple: true },
        "users-file": { type: "string" },
        "allow-open-proxy": { type: "boolean" },
        "destination-policy": { type: "string" },
        "allow-destination": { type: "string", multiple: true },
        disable: { type: "string", multiple: true },
        "external-address": { type: "string" },
        "handshake-timeout": { type: "string" },
        "connect-timeout": { type: "string" },
        "idle-timeout": { type: "string" },
        "bind-timeout": { type: "string" },
        "udp-timeout": { type: "string" },
        "shutdown-grace": { type: "string" },
        "max-sessions": { type: "string" },
        "auth-failure-delay": { type: "string" },
        "log-level": { type: "string" },
        "log-format": { type: "string" },
        metrics: { type: "string" },
        workers: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    }));
  } catch (error) {
    // A stray argument is not echoed: it may be a password split off its
    // --user value ("--user alice :s3cret").
    if ((error as { code?: unknown } | null)?.code === _UNEXPECTED_POSITIONAL) {
      throw new UsageError(
        "Unexpected argument (not shown, it may hold a password): every option is a --flag",
      );
    }
    // parseArgs names the flag in its message; keep it to one line.
    throw new UsageError(
      (error instanceof Error ? error.message : String(error)).split("\n")[0]!
        .replace(/\. To specify .*$/, ""),
    );
  }
  const base: CliConfig = {
    action: "serve",
    serve: {},
    logLevel: "info",
    logFormat: "text",
    graceMs: 10_000,
    metricsListen: null,
    workers: 1,
  };
  if (values.help) return { ...base, action: "help" };
  if (values.version) return { ...base, action: "version" };

  const serve: ServeOptions = {};
  serve.listen = (values.listen ?? ["127.0.0.1:1080"]).map((l) =>
    parseHostPort(l, "--listen")
  );

  const users = new Map<string, string>();
  if (values["users-file"] !== undefined) {
    let text: string;
    try {
      text = await readTextFile(values["users-file"]);
    } catch (error) {
      throw new UsageError(
        `--users-file: cannot read ${JSON.stringify(values["users-file"])}: ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
    try {
      for (const [name, password] of parseUsersFile(text)) {
        users.set(name, password);
      }
    } catch (error) {
      throw new UsageError(`--users-file: ${(error as Error).message}`);
    }
  }
  for (const entry of values.user ?? []) {
    const colon = entry.indexOf(":");
    if (colon < 1 || colon === entry.length - 1) {
      // The value is not echoed: it may hold a password.
      throw new UsageError(
        "--user: expected NAME:PASS with both parts non-empty",
      );
    }
    users.set(entry.slice(0, colon), entry.slice(colon + 1));
  }
  for (const [name, password] of users) {
    const encoder = new TextEncoder();
    if (
      encoder.encode(name).length > 255 || encoder.encode(password).length > 255
    ) {
      throw new UsageError(
        `User ${
          JSON.stringify(name)
        }: name and password must be at most 255 bytes`,
      );
    }
  }
  if (users.size > 0) serve.users = users;
  serve.allowOpenProxy = values["allow-open-proxy"] ?? false;

  const policy = values["destination-policy"] ?? "auto";
  if (policy === "block-internal") serve.blockInternalDestinations = true;
  else if (policy === "allow-all") serve.blockInternalDestinations = false;
  else if (policy !== "auto") {
    throw new UsageError(
      `--destination-policy: expected auto, block-internal or allow-all, got ${
        JSON.stringify(policy)
      }`,
    );
  }
  const allow = values["allow-destination"] ?? [];
  for (const cidr of allow) {
    try {
      parseCidr(cidr);
    } catch {
      throw new UsageError(
        `--allow-destination: expected a CIDR block like 10.1.0.0/16, got ${
          JSON.stringify(cidr)
        }`,
      );
    }
  }
  if (allow.length > 0) serve.allowDestinations = allow;

  const disabled = values.disable ?? [];
  for (const name of disabled) {
    if (!["connect", "bind", "udp"].includes(name)) {
      throw new UsageError(
        `--disable: expected connect, bind or udp, got ${JSON.stringify(name)}`,
      );
    }
  }
  if (disabled.length > 0) {
    serve.commands = {
      connect: !disabled.includes("connect"),
      bind: !disabled.includes("bind"),
      udpAssociate: !disabled.includes("udp"),
    };
  }
  if (values["external-address"] !== undefined) {
    serve.externalAddress = values["external-address"];
  }

  const timeouts: Partial<Timeouts> = {};
  const timeoutFlags: Array<[keyof Timeouts, string]> = [
    ["handshake", "handshake-timeout"],
    ["connect", "connect-timeout"],
    ["idle", "idle-timeout"],
    ["bind", "bind-timeout"],
    ["udp", "udp-timeout"],
  ];
  for (const [key, flag] of timeoutFlags) {
    const text = values[flag as keyof typeof values] as string | undefined;
    if (text !== undefined) timeouts[key] = parseDuration(text, `--${flag}`);
  }
  serve.timeouts = timeouts;
  if (values["auth-failure-delay"] !== undefined) {
    serve.authFailureDelay = parseDuration(
      values["auth-failure-delay"],
      "--auth-failure-delay",
    );
  }
  if (values["max-sessions"] !== undefined) {
    const text = values["max-sessions"];
    if (!/^[1-9]\d*$/.test(text)) {
      throw new UsageError(
        `--max-sessions: expected a positive integer, got ${
          JSON.stringify(text)
        }`,
      );
    }
    serve.maxSessions = Number(text);
  }

  const workersText = values.workers ?? "1";
  if (!/^[1-9]\d{0,2}$/.test(workersText)) {
    throw new UsageError(
      `--workers: expected an integer 1-999, got ${
        JSON.stringify(workersText)
      }`,
    );
  }
  const workers = Number(workersText);

  const logLevel = values["log-level"] ?? "info";
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new UsageError(
      `--log-level: expected debug, info, warn or error, got ${
        JSON.stringify(logLevel)
      }`,
    );
  }
  const logFormat = values["log-format"] ?? "text";
  if (logFormat !== "text" && logFormat !== "json") {
    throw new UsageError(
      `--log-format: expected text or json, got ${JSON.stringify(logFormat)}`,
    );
  }
  return {
    action: "serve",
    serve,
    logLevel: logLevel as LogLevel,
    logFormat,
    graceMs: values["shutdown-grace"] === undefined
      ? 10_000
      : parseDuration(values["shutdown-grace"], "--shutdown-grace"),
    metricsListen: values.metrics === undefined
      ? null
      : parseHostPort(values.metrics, "--metrics"),
    workers,
  };
}
