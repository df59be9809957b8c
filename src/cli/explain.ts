/**
 * `socks5-deno explain --config FILE --client IP [--user U] [--address IP]
 * connect|bind|udp HOST:PORT`: prints what the access rules (and the
 * destination policy) decide for that request, and which rule decided.
 * Nothing is resolved: for a name whose verdict depends on its addresses,
 * give one with `--address`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseCli } from "../config/cli.ts";
import { parseChoice, parseHostPort, UsageError } from "../config/values.ts";
import { parseUpstreamUrl } from "../outbound/upstream_url.ts";
import { AccessRules } from "../policy/access_rules.ts";
import { blockInternalDestinations } from "../policy/destination_policy.ts";
import type { RuleRequest } from "../policy/ruleset.ts";
import { toSocksAddress } from "../protocol/address.ts";
import { canonicalIp, ipFamily, isLoopback } from "../protocol/ip.ts";
import type { ProcessHost } from "../runtime/runtime.ts";

const _COMMANDS = { connect: "connect", bind: "bind", udp: "udp_associate" };

/**
 * Runs `explain`.
 *
 * @param args The arguments after `explain`.
 * @param host The process.
 * @returns 0 when allowed, 1 when denied, 2 for bad usage.
 */
export async function runExplain(
  args: readonly string[],
  host: ProcessHost,
): Promise<number> {
  let request: RuleRequest;
  let address: string | null;
  let configArgs: string[];
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        config: { type: "string" },
        client: { type: "string" },
        user: { type: "string" },
        address: { type: "string" },
      },
    });
    if (!values.config || !values.client || positionals.length !== 2) {
      throw new UsageError(
        "usage: explain --config FILE --client IP [--user U] [--address IP] connect|bind|udp HOST:PORT",
      );
    }
    if (ipFamily(values.client) === null) {
      throw new UsageError(
        `--client: expected an IP address, got ${
          JSON.stringify(values.client)
        }`,
      );
    }
    if (values.address !== undefined && ipFamily(values.address) === null) {
      throw new UsageError(
        `--address: expected an IP address, got ${
          JSON.stringify(values.address)
        }`,
      );
    }
    const command = parseChoice(positionals[0]!, "command", [
      "connect",
      "bind",
      "udp",
    ]);
    const target = parseHostPort(positionals[1]!, "destination");
    request = {
      client: { hostname: canonicalIp(values.client), port: 0 },
      user: values.user ?? null,
      command: _COMMANDS[command] as RuleRequest["command"],
      destination: toSocksAddress(target.hostname, target.port),
      datagram: command === "udp",
    };
    address = values.address === undefined ? null : canonicalIp(values.address);
    configArgs = ["--config", values.config];
  } catch (error) {
    host.writeStderr(
      `socks5-deno explain: ${
        error instanceof Error ? error.message.split("\n")[0] : error
      }\n`,
    );
    return 2;
  }
  let config;
  try {
    config = await parseCli(configArgs, (path) => host.readTextFile(path));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    for (const line of error.message.split("\n")) {
      host.writeStderr(`socks5-deno explain: ${line}\n`);
    }
    return 2;
  }
  const { text, allowed } = explainRequest(config.serve, request, address);
  host.writeStdout(`${text}\n`);
  return allowed ? 0 : 1;
}

/**
 * The verdict on one request, in words.
 *
 * @param serve The server options of the configuration.
 * @param request The request.
 * @param address A resolved address for a named destination, if known.
 * @returns One line and whether it is allowed.
 */
export function explainRequest(
  serve: Awaited<ReturnType<typeof parseCli>>["serve"],
  request: RuleRequest,
  address: string | null,
): { text: string; allowed: boolean } {
  const ip = address ??
    (ipFamily(request.destination.host) !== null
      ? canonicalIp(request.destination.host)
      : null);
  const listen = Array.isArray(serve.listen) ? serve.listen : [serve.listen];
  const exposed = listen.some((l) => !isLoopback(l?.hostname ?? "127.0.0.1"));
  if (ip !== null && (serve.blockInternalDestinations ?? exposed)) {
    const policy = blockInternalDestinations({
      allow: serve.allowDestinations ?? [],
    });
    if (!policy.permitsAddress(request, ip)) {
      return {
        text:
          `deny: ${ip} is internal and the destination policy blocks internal destinations (REP 02)`,
        allowed: false,
      };
    }
  }
  if (!serve.rules || serve.rules.length === 0) {
    return { text: "allow: no access rules are configured", allowed: true };
  }
  const rules = new AccessRules(serve.rules, serve.groups);
  const decision = rules.decide(request, ip);
  if (decision.pending) {
    return {
      text:
        `depends on the addresses ${request.destination.host} resolves to: rule "${decision.rule}" allows some; give one with --address`,
      allowed: true,
    };
  }
  // Hops as their display form: credentials are never printed.
  const via = decision.via
    ? ` via ${
      decision.via.map((u) => parseUpstreamUrl(u).display).join(" -> ")
    }`
    : "";
  const from = decision.source ? ` from ${decision.source}` : "";
  return {
    text: decision.allow
      ? `allow by rule "${decision.rule}"${via}${from}`
      : decision.rule === "default"
      ? "deny: no rule matches (REP 02)"
      : `deny by rule "${decision.rule}" (REP 02)`,
    allowed: decision.allow,
  };
}
