/**
 * `socks5-deno probe URL`: probes any SOCKS5 server and prints what it
 * supports and how it behaves, as text or (`--json`) as one JSON object.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseDuration, UsageError } from "../config/values.ts";
import { parseUpstreamUrl } from "../outbound/upstream_url.ts";
import {
  type ProbeCheck,
  type ProbeReport,
  probeServer,
} from "../probe/probe.ts";
import type { ProcessHost, Runtime } from "../runtime/runtime.ts";

const _USAGE =
  `Usage: socks5-deno probe [--json] [--timeout T] socks5://[user:pass@]host:port

Probes a SOCKS5 server: methods, CONNECT (IPv4, IPv6, a name), BIND, UDP
ASSOCIATE, split and pipelined handshakes, half-close, and the replies to a
refused port, an unknown command and an unknown address type. The probe's
targets listen on this host's loopback, so the server must run on this host.

  --json        Print the report as one JSON object.
  --timeout T   How long each step waits for an answer (default 2s).
  -h, --help    This text.
`;

/**
 * Runs the subcommand.
 *
 * @param args The arguments after `probe`.
 * @param runtime The runtime (its network).
 * @param host The process (output).
 * @returns 0 when the probe ran, 1 when the server cannot be reached, 2 for
 * a bad command line.
 */
export async function runProbe(
  args: readonly string[],
  runtime: Runtime,
  host: ProcessHost,
): Promise<number> {
  let parsed;
  try {
    parsed = _parse(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    host.writeStderr(`socks5-deno probe: ${error.message} (see --help)\n`);
    return 2;
  }
  if (parsed === "help") {
    host.writeStdout(_USAGE);
    return 0;
  }
  let report: ProbeReport;
  try {
    report = await probeServer(
      { hostname: parsed.hop.host, port: parsed.hop.port },
      {
        network: runtime.network,
        auth: parsed.hop.auth,
        stepTimeoutMs: parsed.timeoutMs,
      },
    );
  } catch (error) {
    host.writeStderr(
      `socks5-deno probe: cannot reach ${parsed.hop.display}: ${
        error instanceof Error ? error.message : error
      }\n`,
    );
    return 1;
  }
  host.writeStdout(
    parsed.json ? `${JSON.stringify(report)}\n` : formatProbeReport(report),
  );
  return 0;
}

/**
 * The report for people: one line per finding.
 *
 * @param report The report.
 * @returns The text.
 */
export function formatProbeReport(report: ProbeReport): string {
  const m = report.methods;
  const lines = [
    `server            ${report.server}`,
    `methods           no-auth ${m.noAuth}, gssapi ${m.gssapi}, username/password ${m.userPass}; preferred ${
      m.preferred === null
        ? "none"
        : `0x${m.preferred.toString(16).padStart(2, "0")}`
    }`,
  ];
  if (report.login !== null) {
    lines.push(`login             ${report.login ? "accepted" : "refused"}`);
  }
  for (const [name, check] of Object.entries(report.checks)) {
    lines.push(`${_words(name).padEnd(18)}${_describe(check)}`);
  }
  const yes = Object.entries(report.supports).filter(([, v]) => v).map(([k]) =>
    _words(k)
  );
  const no = Object.entries(report.supports).filter(([, v]) => !v).map(([k]) =>
    _words(k)
  );
  lines.push(`supports          ${yes.join(", ") || "nothing"}`);
  if (no.length > 0) lines.push(`lacks             ${no.join(", ")}`);
  return `${lines.join("\n")}\n`;
}

function _describe(check: ProbeCheck): string {
  const reply = check.reply === undefined
    ? ""
    : ` (REP 0x${check.reply.toString(16).padStart(2, "0")})`;
  const outcome = {
    ok: "ok",
    refused: "refused",
    closed: "closed without a reply",
    no_reply: "no reply",
    failed: "failed",
    skipped: "skipped",
  }[check.outcome];
  return `${outcome}${reply}${check.detail ? `: ${check.detail}` : ""}`;
}

/** `connectIpv4` → `connect ipv4`. */
function _words(name: string): string {
  return name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
}

function _parse(args: readonly string[]) {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        timeout: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return "help" as const;
  if (positionals.length !== 1) {
    throw new UsageError("expected one socks5:// URL");
  }
  let hop;
  try {
    hop = parseUpstreamUrl(positionals[0]!);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (hop.protocol !== "socks5") {
    throw new UsageError(`probe speaks SOCKS5 only, not ${hop.protocol}://`);
  }
  return {
    hop,
    json: values.json ?? false,
    timeoutMs: values.timeout === undefined
      ? 2_000
      : parseDuration(values.timeout, "--timeout"),
  };
}
