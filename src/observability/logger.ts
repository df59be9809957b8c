/**
 * Structured logging through an injected sink: text or JSON lines, with
 * levels. The library never writes to the console itself; the CLI passes a
 * sink that writes to stderr.
 *
 * @module
 */

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured fields of one log line. */
export type LogFields = Record<
  string,
  string | number | boolean | null | undefined
>;

/** What the server logs through. Implement it to route logs elsewhere. */
export interface Logger {
  /**
   * Tells whether lines of this level are kept, so callers can skip
   * building fields nobody will read.
   */
  enabled(level: LogLevel): boolean;
  /**
   * Logs one event.
   *
   * @param level Severity.
   * @param message A short, stable event name or sentence ("listening",
   * "session").
   * @param fields Structured details; never a secret.
   */
  log(level: LogLevel, message: string, fields?: LogFields): void;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Where each formatted line goes, without a trailing newline. */
  write: (line: string) => void;
  /**
   * The lowest level kept.
   * @default {"info"}
   */
  level?: LogLevel;
  /**
   * `text`: `TIME LEVEL message key=value …`; `json`: one object per line
   * with `ts`, `level`, `msg` and the fields.
   * @default {"text"}
   */
  format?: "text" | "json";
  /**
   * The clock, for tests.
   * @default {() => new Date()}
   */
  now?: () => Date;
}

/** The levels, lowest first. */
export const LOG_LEVELS: readonly LogLevel[] = [
  "debug",
  "info",
  "warn",
  "error",
];

/** A logger that drops everything: the library's default. */
export const silentLogger: Logger = {
  enabled: () => false,
  log: () => {},
};

/** Field names whose values are never written, whoever passes them. */
const _SECRET_KEY = /pass|secret|token|credential/i;
/**
 * Text values that need no quoting in the text format. The text "null" is
 * quoted all the same: bare, a user named "null" would read as no user.
 */
const _BARE_VALUE = /^[A-Za-z0-9._:@/\[\]+-]+$/;

/**
 * Creates a logger that formats lines and hands them to `write`.
 *
 * Field values that look like secrets by name are replaced with
 * `[redacted]`, and text values are quoted and escaped, so a client-chosen
 * username cannot forge extra log lines.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * const lines: string[] = [];
 * const logger = createLogger({ write: (l) => lines.push(l), format: "json" });
 * logger.log("info", "listening", { address: "127.0.0.1:1080" });
 * ```
 *
 * @param options Sink, level and format.
 * @returns The logger.
 */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  if (threshold < 0) {
    throw new RangeError(`Unknown log level ${JSON.stringify(options.level)}`);
  }
  const json = (options.format ?? "text") === "json";
  const now = options.now ?? (() => new Date());
  const enabled = (level: LogLevel) => LOG_LEVELS.indexOf(level) >= threshold;
  return {
    enabled,
    log(level, message, fields) {
      if (!enabled(level)) return;
      const ts = now().toISOString();
      if (json) {
        const record: Record<string, unknown> = { ts, level, msg: message };
        for (const key in fields) {
          record[key] = _isSecretKey(key) ? "[redacted]" : fields[key];
        }
        options.write(JSON.stringify(record));
        return;
      }
      let line = `${ts} ${_LEVEL_LABELS[level]} ${message}`;
      for (const key in fields) {
        const value = _isSecretKey(key) ? "[redacted]" : fields[key];
        if (value === undefined) continue;
        line += ` ${key}=${
          typeof value !== "string"
            ? String(value)
            : value !== "null" && _BARE_VALUE.test(value)
            ? value
            : JSON.stringify(value)
        }`;
      }
      options.write(line);
    },
  };
}

/** Levels as the text format writes them, padded to one width. */
const _LEVEL_LABELS: Readonly<Record<LogLevel, string>> = {
  debug: "DEBUG",
  info: "INFO ",
  warn: "WARN ",
  error: "ERROR",
};

/**
 * Field names already judged: an access line has the same fifteen names
 * every time, so each is tested against the pattern once, not per line.
 * Bounded, since callers may log names that come from outside.
 */
const _secretKeys = new Map<string, boolean>();

function _isSecretKey(key: string): boolean {
  let secret = _secretKeys.get(key);
  if (secret === undefined) {
    secret = _SECRET_KEY.test(key);
    if (_secretKeys.size < 1024) _secretKeys.set(key, secret);
  }
  return secret;
}
