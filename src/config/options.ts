/**
 * The option table: every setting an operator can give, with its flag, its
 * value's form, its default, its help text and how it is applied. The
 * argument parser, `--help` and README's flag table are all made from it.
 *
 * @module
 */

import { isPasswordHash } from "../auth/password_hash.ts";
import { parseUsersFile } from "../auth/users_file.ts";
import type { ServeOptions } from "../core/server.ts";
import type { Timeouts } from "../core/context.ts";
import { LOG_LEVELS, type LogLevel } from "../observability/logger.ts";
import { parseUpstreamChain } from "../outbound/upstream_url.ts";
import { parseCidr } from "../policy/destination_policy.ts";
import type { GssProtection } from "../protocol/gssapi.ts";
import { canonicalIp, ipFamily } from "../protocol/ip.ts";
import { parsePortRange } from "../outbound/port_range.ts";
import {
  type HostPort,
  parseChoice,
  parseCount,
  parseDuration,
  parseHostPort,
  parseRate,
  UsageError,
} from "./values.ts";
import type { LimitSettings } from "../policy/limits.ts";

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
  /** Where to serve Prometheus metrics, if anywhere (`--metrics`, an alias of `--admin`). */
  metricsListen: HostPort | null;
  /** Where to serve the admin listener, if anywhere. */
  adminListen: HostPort | null;
  /** The admin listener's token, read from `--admin-token-file`. */
  adminToken: string | null;
  /** Distinct users with their own metrics label. */
  metricsUserLabels: number;
  /** The access log file; `null` means with the other lines on stderr. */
  accessLog: string | null;
  /** How many event loops (Web Workers sharing the port); 1 = in-process. */
  workers: number;
  /** The config file given with `--config`, re-read on reload. */
  configPath: string | null;
  /** Things worth a warning at start (plaintext passwords, ...). */
  warnings: string[];
}

/** What the options build up before the configuration is final. */
export interface ConfigDraft {
  /** The configuration being built. */
  config: CliConfig;
  /** Users from the users file, then from `--user`, in that order. */
  users: Map<string, string>;
  /** Users of the users file whose password is not hashed. */
  plaintext: string[];
  /** Reads the users file. */
  readTextFile: (path: string) => Promise<string>;
}

function _limit(
  key: keyof LimitSettings,
  flag: string,
  value: "N" | "RATE",
  help: string,
): OptionSpec {
  return {
    flag,
    value,
    section: "Limits",
    help,
    defaultText: "none",
    apply(draft, text: string) {
      draft.config.serve.limits = {
        ...draft.config.serve.limits,
        [key]: value === "N"
          ? parseCount(text, `--${flag}`, Number.MAX_SAFE_INTEGER)
          : parseRate(text, `--${flag}`),
      };
    },
  };
}

/** The headings `--help` groups options under, in order. */
export const SECTIONS = [
  "Listening and authentication",
  "Access and commands",
  "Outbound",
  "Timeouts",
  "Limits",
  "Observability",
  "Performance",
] as const;

/** One setting. */
export interface OptionSpec {
  /** The long flag without `--`. */
  readonly flag: string;
  /** The value's placeholder (`HOST:PORT`); absent for a switch. */
  readonly value?: string;
  /** Whether the flag may be repeated. */
  readonly multiple?: boolean;
  /** Where `--help` lists it. */
  readonly section: (typeof SECTIONS)[number];
  /** What it does: one or two sentences, for `--help` and README. */
  readonly help: string;
  /** The default, as README shows it. */
  readonly defaultText: string;
  /**
   * Applies the given value(s) to the draft.
   *
   * @throws {UsageError} Naming the flag, for a bad value.
   */
  readonly apply: (
    draft: ConfigDraft,
    value: string & string[] & boolean,
  ) => void | Promise<void>;
}

function _timeout(
  key: keyof Timeouts,
  flag: string,
  help: string,
  defaultText: string,
): OptionSpec {
  return {
    flag,
    value: "T",
    section: "Timeouts",
    help,
    defaultText,
    apply(draft, text: string) {
      draft.config.serve.timeouts = {
        ...draft.config.serve.timeouts,
        [key]: parseDuration(text, `--${flag}`),
      };
    },
  };
}

/** Every option, in the order `--help` and README list them. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    flag: "config",
    value: "FILE",
    section: "Listening and authentication",
    help:
      "Read settings from a YAML file (see Configuration file); flags given as well override it. SIGHUP re-reads it.",
    defaultText: "none",
    apply(draft, path: string) {
      draft.config.configPath = path;
    },
  },
  {
    flag: "listen",
    value: "HOST:PORT",
    multiple: true,
    section: "Listening and authentication",
    help:
      "Address to listen on; repeat for several. IPv6 in brackets: [::1]:1080.",
    defaultText: "`127.0.0.1:1080`",
    apply(draft, values: string[]) {
      draft.config.serve.listen = values.map((v) =>
        parseHostPort(v, "--listen")
      );
    },
  },
  {
    flag: "users-file",
    value: "PATH",
    section: "Listening and authentication",
    help:
      'Users, one "name:password" per line, # comments; the password may be a bcrypt ($2y$, htpasswd -B), scrypt or argon2id hash (see passwd), else plaintext. Needs --allow-read on Deno.',
    defaultText: "none",
    async apply(draft, path: string) {
      let text: string;
      try {
        text = await draft.readTextFile(path);
      } catch (error) {
        throw new UsageError(
          `--users-file: cannot read ${JSON.stringify(path)}: ${
            error instanceof Error ? error.message : error
          }`,
        );
      }
      try {
        for (const [name, password] of parseUsersFile(text)) {
          draft.users.set(name, password);
          if (!isPasswordHash(password)) draft.plaintext.push(name);
        }
      } catch (error) {
        throw new UsageError(`--users-file: ${(error as Error).message}`);
      }
    },
  },
  {
    flag: "user",
    value: "NAME:PASS",
    multiple: true,
    section: "Listening and authentication",
    help:
      "Require username/password auth and add this user; repeatable. Prefer --users-file: flags show in ps.",
    defaultText: "none",
    apply(draft, entries: string[]) {
      for (const entry of entries) {
        const colon = entry.indexOf(":");
        if (colon < 1 || colon === entry.length - 1) {
          // The value is not echoed: it may hold a password.
          throw new UsageError(
            "--user: expected NAME:PASS with both parts non-empty",
          );
        }
        draft.users.set(entry.slice(0, colon), entry.slice(colon + 1));
      }
    },
  },
  {
    flag: "gssapi-keytab",
    value: "PATH",
    section: "Listening and authentication",
    help:
      "Offer GSS-API (Kerberos, RFC 1961) with the service keys in this keytab; needs --gssapi-service. Deno needs --allow-ffi.",
    defaultText: "off",
    apply(draft, path: string) {
      draft.config.serve.gssapi = {
        service: "",
        ...draft.config.serve.gssapi,
        keytab: path,
      };
    },
  },
  {
    flag: "gssapi-service",
    value: "NAME",
    section: "Listening and authentication",
    help:
      "The service clients ask tickets for, e.g. rcmd (curl and most SOCKS clients) for rcmd/HOST@REALM keys.",
    defaultText: "none",
    apply(draft, name: string) {
      if (!/^[A-Za-z0-9._-]+$/.test(name)) {
        throw new UsageError(
          `--gssapi-service: expected a name like rcmd, got ${
            JSON.stringify(name)
          }`,
        );
      }
      draft.config.serve.gssapi = {
        keytab: "",
        ...draft.config.serve.gssapi,
        service: name,
      };
    },
  },
  {
    flag: "gssapi-protection",
    value: "LIST",
    section: "Listening and authentication",
    help:
      "Protection levels the server agrees to, comma-separated: none (curl), integrity, confidentiality.",
    defaultText: "`integrity,confidentiality`",
    apply(draft, text: string) {
      const names = ["none", "integrity", "confidentiality"] as const;
      const levels = text.split(",").map((name) =>
        names.indexOf(parseChoice(name.trim(), "--gssapi-protection", names))
      ) as GssProtection[];
      draft.config.serve.gssapi = {
        keytab: "",
        service: "",
        ...draft.config.serve.gssapi,
        protection: [...new Set(levels)],
      };
    },
  },
  {
    flag: "allow-open-proxy",
    section: "Listening and authentication",
    help: "Allow a non-loopback --listen without any user.",
    defaultText: "refused",
    apply(draft, value: boolean) {
      draft.config.serve.allowOpenProxy = value;
    },
  },
  {
    flag: "destination-policy",
    value: "P",
    section: "Access and commands",
    help:
      "auto, block-internal or allow-all. block-internal refuses loopback, private, link-local, CGNAT, multicast and cloud-metadata destinations, also inside IPv6 transition addresses (after resolution, and per UDP datagram); auto blocks them when any --listen address is not loopback.",
    defaultText: "`auto`",
    apply(draft, text: string) {
      const policy = parseChoice(text, "--destination-policy", [
        "auto",
        "block-internal",
        "allow-all",
      ]);
      if (policy === "block-internal") {
        draft.config.serve.blockInternalDestinations = true;
      } else if (policy === "allow-all") {
        draft.config.serve.blockInternalDestinations = false;
      }
    },
  },
  {
    flag: "allow-destination",
    value: "CIDR",
    multiple: true,
    section: "Access and commands",
    help: "Exempt a block from block-internal; repeatable.",
    defaultText: "none",
    apply(draft, blocks: string[]) {
      for (const cidr of blocks) {
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
      draft.config.serve.allowDestinations = blocks;
    },
  },
  {
    flag: "disable",
    value: "CMD",
    multiple: true,
    section: "Access and commands",
    help: "Refuse connect, bind or udp with REP 07; repeatable.",
    defaultText: "all enabled",
    apply(draft, names: string[]) {
      for (const name of names) {
        parseChoice(name, "--disable", ["connect", "bind", "udp"]);
      }
      draft.config.serve.commands = {
        connect: !names.includes("connect"),
        bind: !names.includes("bind"),
        udpAssociate: !names.includes("udp"),
      };
    },
  },
  {
    flag: "external-address",
    value: "IP",
    section: "Access and commands",
    help: "Address for BIND listeners and UDP relay sockets.",
    defaultText: "the address the client connected to",
    apply(draft, text: string) {
      draft.config.serve.externalAddress = text;
    },
  },
  {
    flag: "upstream",
    value: "URL",
    multiple: true,
    section: "Outbound",
    help:
      "Go out through this proxy: socks5://[user:pass@]host:port, socks4a://, socks4:// or http:// (CONNECT); repeat for a chain, first hop first. Names go to the upstream unresolved; BIND and UDP need a SOCKS5 last hop.",
    defaultText: "direct",
    apply(draft, urls: string[]) {
      try {
        parseUpstreamChain(urls);
      } catch (error) {
        // The parser's message never quotes credentials.
        throw new UsageError(`--upstream: ${(error as Error).message}`);
      }
      draft.config.serve.upstream = urls;
    },
  },
  {
    flag: "outbound-address",
    value: "IP",
    section: "Outbound",
    help:
      "Source address of outbound TCP connections. Bun and the executable only: Deno cannot bind one, and refuses to start with it.",
    defaultText: "the system's choice",
    apply(draft, text: string) {
      if (ipFamily(text) === null) {
        throw new UsageError(
          `--outbound-address: expected an IP address, got ${
            JSON.stringify(text)
          }`,
        );
      }
      draft.config.serve.outboundAddress = text;
    },
  },
  {
    flag: "udp-port-range",
    value: "LOW-HIGH",
    section: "Outbound",
    help:
      "Bind UDP relay sockets (client side and outbound side) on ports of this range only, e.g. 40000-40999.",
    defaultText: "any free port",
    apply(draft, text: string) {
      try {
        draft.config.serve.udpPortRange = parsePortRange(text);
      } catch (error) {
        throw new UsageError(`--udp-port-range: ${(error as Error).message}`);
      }
    },
  },
  {
    flag: "advertise-address",
    value: "IP",
    section: "Outbound",
    help:
      "Address BIND and UDP ASSOCIATE replies name instead of the bound one (--external-address), for a server behind NAT.",
    defaultText: "the bound address",
    apply(draft, text: string) {
      if (ipFamily(text) === null) {
        throw new UsageError(
          `--advertise-address: expected an IP address, got ${
            JSON.stringify(text)
          }`,
        );
      }
      draft.config.serve.advertisedAddress = canonicalIp(text);
    },
  },
  {
    flag: "udp-fragments",
    section: "Outbound",
    help:
      "Reassemble fragmented UDP datagrams (RFC 1928 §7: FRAG 1-127, high bit on the last; 5 s timer, 65507-byte cap per association) instead of dropping them.",
    defaultText: "dropped",
    apply(draft, value: boolean) {
      draft.config.serve.udpFragments = value;
    },
  },
  _timeout(
    "handshake",
    "handshake-timeout",
    "Greeting to request.",
    "`10s`",
  ),
  _timeout(
    "connect",
    "connect-timeout",
    "Resolution plus every connection attempt.",
    "`10s`",
  ),
  _timeout(
    "idle",
    "idle-timeout",
    "Relayed TCP connection without traffic either way.",
    "`1h`",
  ),
  _timeout(
    "bind",
    "bind-timeout",
    "BIND waiting for its peer (REP 06 on expiry).",
    "`60s`",
  ),
  _timeout(
    "udp",
    "udp-timeout",
    "UDP association without datagrams.",
    "`2m`",
  ),
  {
    flag: "shutdown-grace",
    value: "T",
    section: "Timeouts",
    help: "Draining on SIGINT/SIGTERM before sessions are closed.",
    defaultText: "`10s`",
    apply(draft, text: string) {
      draft.config.graceMs = parseDuration(text, "--shutdown-grace");
    },
  },
  {
    flag: "max-sessions",
    value: "N",
    section: "Limits",
    help: "Concurrent sessions; more are closed at once and counted.",
    defaultText: "`10000`",
    apply(draft, text: string) {
      draft.config.serve.maxSessions = parseCount(
        text,
        "--max-sessions",
        Number.MAX_SAFE_INTEGER,
      );
    },
  },
  {
    flag: "auth-failure-delay",
    value: "T",
    section: "Limits",
    help: "Delay before answering a failed login.",
    defaultText: "`0`",
    apply(draft, text: string) {
      draft.config.serve.authFailureDelay = parseDuration(
        text,
        "--auth-failure-delay",
      );
    },
  },
  {
    flag: "auth-failures-per-minute",
    value: "N",
    section: "Limits",
    help:
      "Failed logins one client IP may make per minute; beyond it, its logins are refused unchecked until the minute has passed.",
    defaultText: "`30`",
    apply(draft, text: string) {
      draft.config.serve.limits = {
        ...draft.config.serve.limits,
        authFailuresPerMinute: parseCount(
          text,
          "--auth-failures-per-minute",
          Number.MAX_SAFE_INTEGER,
        ),
      };
    },
  },
  _limit(
    "sessionsPerUser",
    "max-sessions-per-user",
    "N",
    "Concurrent sessions of one user (counted after authentication); more are refused with REP 02.",
  ),
  _limit(
    "sessionsPerClient",
    "max-sessions-per-client",
    "N",
    "Concurrent sessions from one client IP (counted after authentication); more are refused with REP 02.",
  ),
  _limit(
    "connRatePerClient",
    "max-conn-rate-per-client",
    "N",
    "New connections per second from one client IP; more are closed at once.",
  ),
  _limit(
    "userUpload",
    "user-upload-rate",
    "RATE",
    "Bytes per second one user may send, all sessions together (256KiB, 1MiB, 500k).",
  ),
  _limit(
    "userDownload",
    "user-download-rate",
    "RATE",
    "Bytes per second one user may receive, all sessions together.",
  ),
  _limit(
    "sessionUpload",
    "session-upload-rate",
    "RATE",
    "Bytes per second one session may send.",
  ),
  _limit(
    "sessionDownload",
    "session-download-rate",
    "RATE",
    "Bytes per second one session may receive.",
  ),
  {
    flag: "log-level",
    value: "LEVEL",
    section: "Observability",
    help: "debug, info, warn or error; info logs one access line per session.",
    defaultText: "`info`",
    apply(draft, text: string) {
      draft.config.logLevel = parseChoice(text, "--log-level", LOG_LEVELS);
    },
  },
  {
    flag: "log-format",
    value: "FORMAT",
    section: "Observability",
    help:
      "text or json (one object per line); logs go to stderr, the access log too unless --access-log.",
    defaultText: "`text`",
    apply(draft, text: string) {
      draft.config.logFormat = parseChoice(text, "--log-format", [
        "text",
        "json",
      ]);
    },
  },
  {
    flag: "access-log",
    value: "PATH",
    section: "Observability",
    help:
      "Write the access log (one line per session, in --log-format) to this file, reopened on SIGUSR1 for logrotate; - for stderr. Needs --allow-write on Deno.",
    defaultText: "stderr",
    apply(draft, path: string) {
      if (path === "") throw new UsageError("--access-log: expected a path");
      draft.config.accessLog = path === "-" ? null : path;
    },
  },
  {
    flag: "admin",
    value: "HOST:PORT",
    section: "Observability",
    help:
      "Serve the admin listener: status page at /, /metrics (Prometheus), /healthz, /readyz, /api/sessions. A non-loopback address needs --admin-token-file.",
    defaultText: "off",
    apply(draft, text: string) {
      draft.config.adminListen = parseHostPort(text, "--admin");
    },
  },
  {
    flag: "admin-token-file",
    value: "PATH",
    section: "Observability",
    help:
      "Require this file's token on every admin path but /healthz and /readyz: Authorization: Bearer TOKEN, or basic auth with TOKEN as password.",
    defaultText: "none",
    async apply(draft, path: string) {
      let text: string;
      try {
        text = await draft.readTextFile(path);
      } catch (error) {
        throw new UsageError(
          `--admin-token-file: cannot read ${JSON.stringify(path)}: ${
            error instanceof Error ? error.message : error
          }`,
        );
      }
      const token = text.trim();
      if (token.length < 16 || /\s/.test(token)) {
        // The value is not echoed: it is a secret.
        throw new UsageError(
          "--admin-token-file: expected one token of at least 16 characters without spaces",
        );
      }
      draft.config.adminToken = token;
    },
  },
  {
    flag: "metrics",
    value: "HOST:PORT",
    section: "Observability",
    help:
      "Alias of --admin, kept for older command lines: metrics at http://HOST:PORT/metrics and the other admin paths.",
    defaultText: "off",
    apply(draft, text: string) {
      draft.config.metricsListen = parseHostPort(text, "--metrics");
    },
  },
  {
    flag: "metrics-user-labels",
    value: "N",
    section: "Observability",
    help:
      'Distinct users that get their own user="..." metrics label; later ones are counted as user="(other)" (per worker).',
    defaultText: "`100`",
    apply(draft, text: string) {
      draft.config.metricsUserLabels = parseCount(
        text,
        "--metrics-user-labels",
        100_000,
      );
    },
  },
  {
    flag: "workers",
    value: "N",
    section: "Performance",
    help:
      "Run N event loops (workers sharing the port with SO_REUSEPORT, Linux). --max-sessions applies per worker; the per-user and per-client limits hold across workers.",
    defaultText: "`1`",
    apply(draft, text: string) {
      draft.config.workers = parseCount(text, "--workers", 999);
    },
  },
];
