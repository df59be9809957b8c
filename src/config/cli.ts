/**
 * Command-line parsing: flags to a configuration, through the option table.
 * Pure: no I/O but reading a users file through the injected
 * `readTextFile`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ConfigError, configKey, type FileSettings } from "./file_settings.ts";
import { type CliConfig, type ConfigDraft, OPTIONS } from "./options.ts";
import { UsageError } from "./values.ts";

/** The program's version, printed by `--version`. */
export const VERSION = "0.2.0";

const _UNEXPECTED_POSITIONAL = "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL";

type _ParseArgsOptions = Record<
  string,
  { type: "string" | "boolean"; multiple?: boolean; short?: string }
>;

const _PARSE_OPTIONS: _ParseArgsOptions = {
  ...Object.fromEntries(
    OPTIONS.map((o) => [o.flag, {
      type: o.value === undefined ? "boolean" as const : "string" as const,
      ...(o.multiple ? { multiple: true } : {}),
    }]),
  ),
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
};

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
  let values: Record<string, string | boolean | (string | boolean)[]>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: _PARSE_OPTIONS,
    }) as { values: typeof values });
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
  const draft: ConfigDraft = {
    config: {
      action: "serve",
      serve: {},
      logLevel: "info",
      logFormat: "text",
      graceMs: 10_000,
      metricsListen: null,
      adminListen: null,
      adminToken: null,
      metricsUserLabels: 100,
      accessLog: null,
      workers: 1,
      configPath: null,
      warnings: [],
    },
    users: new Map(),
    plaintext: [],
    readTextFile,
  };
  if (values.help) return { ...draft.config, action: "help" };
  if (values.version) return { ...draft.config, action: "version" };
  const serve = draft.config.serve;
  serve.listen = [{ hostname: "127.0.0.1", port: 1080 }];
  serve.limits = { authFailuresPerMinute: 30 };
  const file = typeof values.config === "string"
    ? await loadConfigFile(values.config, readTextFile)
    : null;
  const problems: string[] = [];
  for (const option of OPTIONS) {
    const fromFlag = values[option.flag];
    const value = fromFlag ?? file?.values.get(option.flag);
    if (value === undefined) continue;
    try {
      await option.apply(draft, value as string & string[] & boolean);
    } catch (error) {
      if (fromFlag !== undefined || !(error instanceof UsageError)) throw error;
      // Said of the file: its line and key instead of the flag.
      problems.push(
        `${file!.places.get(option.flag)}: ${
          error.message.replace(`--${option.flag}`, configKey(option)!)
        }`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (file?.rules) serve.rules = file.rules;
  if (file?.groups) serve.groups = file.groups;
  _finishUsers(draft);
  if (draft.plaintext.length > 0) {
    draft.config.warnings.push(
      `The users file holds plaintext passwords (${
        draft.plaintext.slice(0, 3).map((n) => JSON.stringify(n)).join(", ")
      }${
        draft.plaintext.length > 3 ? ", ..." : ""
      }): hash them with "socks5-deno passwd NAME"`,
    );
  }
  _finishGssapi(draft);
  const c = draft.config;
  if (c.adminToken !== null && !c.adminListen && !c.metricsListen) {
    throw new UsageError("--admin-token-file: needs --admin (or --metrics)");
  }
  serve.allowOpenProxy ??= false;
  serve.timeouts ??= {};
  return _ordered(draft.config);
}

/**
 * Reads and checks a config file.
 *
 * @param path The file.
 * @param readTextFile Reads it.
 * @returns Its settings.
 * @throws {ConfigError} For an unreadable or invalid file.
 */
export async function loadConfigFile(
  path: string,
  readTextFile: (path: string) => Promise<string>,
): Promise<FileSettings> {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (error) {
    throw new ConfigError([
      `${path}: cannot read the config file: ${
        error instanceof Error ? error.message : error
      }`,
    ]);
  }
  const { parseConfigFile } = await import("./file.ts");
  return parseConfigFile(text, path);
}

function _finishUsers(draft: ConfigDraft): void {
  const encoder = new TextEncoder();
  for (const [name, password] of draft.users) {
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
  if (draft.users.size > 0) draft.config.serve.users = draft.users;
}

function _finishGssapi(draft: ConfigDraft): void {
  const gssapi = draft.config.serve.gssapi;
  if (gssapi === undefined) return;
  if (!gssapi.keytab || !gssapi.service) {
    throw new UsageError(
      "GSS-API needs both --gssapi-keytab and --gssapi-service",
    );
  }
}

/** The same configuration with its keys in a stable, documented order. */
function _ordered(config: CliConfig): CliConfig {
  const s = config.serve;
  const serve: CliConfig["serve"] = {};
  for (
    const key of [
      "listen",
      "users",
      "gssapi",
      "allowOpenProxy",
      "blockInternalDestinations",
      "allowDestinations",
      "commands",
      "protocols",
      "allowSocks4WithUsers",
      "proxyProtocolFrom",
      "externalAddress",
      "upstream",
      "outboundAddress",
      "udpPortRange",
      "advertisedAddress",
      "udpFragments",
      "timeouts",
      "authFailureDelay",
      "maxSessions",
      "limits",
      "rules",
      "groups",
    ] as const
  ) {
    if (s[key] !== undefined) {
      (serve as Record<string, unknown>)[key] = s[key];
    }
  }
  return { ...config, serve };
}
