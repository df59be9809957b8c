/**
 * Ordered first-match allow/deny rules (the config file's `rules:`), as a
 * {@linkcode Ruleset}. Within a rule every field given must match, and a
 * field matches when any of its values does; the destination fields (`to`,
 * `host`, `domain`, `glob`) together form one field. A request no rule
 * matches is denied.
 *
 * A name is judged before any lookup: a rule that needs the address (`to`)
 * and does not match the name otherwise is left open then, and decided
 * again on every resolved address, every UDP datagram and every BIND peer.
 *
 * @module
 */

import { canonicalIp, ipFamily, isUnspecified } from "../protocol/ip.ts";
import { parseUpstreamUrl } from "../outbound/upstream_url.ts";
import { inBlock, parseCidr } from "./destination_policy.ts";
import type { RuleRequest, Ruleset } from "./ruleset.ts";

/** A command as rules name it. */
export type RuleCommand = "connect" | "bind" | "udp";

/** One rule, as data (it survives `structuredClone`, for workers). */
export interface AccessRule {
  /** Shown in the access log and by `explain`; `rule N` by default. */
  name?: string;
  /** What a match means. */
  action: "allow" | "deny";
  /** Client CIDR blocks. */
  client?: readonly string[];
  /** Usernames. */
  user?: readonly string[];
  /** Group names (see `groups`). */
  group?: readonly string[];
  /** Commands. */
  command?: readonly RuleCommand[];
  /** Destination CIDR blocks (matched on IP literals and resolved addresses). */
  to?: readonly string[];
  /** Exact destination hosts (names, case-insensitive, or IP literals). */
  host?: readonly string[];
  /** Domain suffixes: `example.com` matches it and every name below it. */
  domain?: readonly string[];
  /** Name globs: `*` is any run of characters, `?` one. */
  glob?: readonly string[];
  /** Ports and ranges: `443`, `8000-8999`. */
  port?: readonly (string | number)[];
  /**
   * Upstream proxy chain (URLs, first hop first) for requests this rule
   * allows; the outbound side honours it.
   */
  via?: readonly string[];
  /**
   * Source address (an IP literal) of the outbound TCP connections of
   * requests this rule allows, instead of the server's `--outbound-address`;
   * only where the runtime can bind one (Bun, the executable).
   */
  source?: string;
}

/** What the rules decided. */
export interface RuleDecision {
  /** Allowed or not. */
  allow: boolean;
  /** The deciding rule's name; `default` when none matched. */
  rule: string;
  /** The deciding rule's upstream chain. */
  via?: readonly string[];
  /** The deciding rule's outbound source address. */
  source?: string;
  /** True when a name's verdict waits for its resolved addresses. */
  pending?: boolean;
}

interface _Compiled {
  name: string;
  allow: boolean;
  clients: ReturnType<typeof parseCidr>[] | null;
  users: Set<string> | null;
  commands: Set<string> | null;
  to: ReturnType<typeof parseCidr>[];
  hosts: Set<string>;
  domains: string[];
  globs: RegExp[];
  hasDestination: boolean;
  ports: Array<[number, number]> | null;
  via?: readonly string[];
  source?: string;
}

const _COMMAND: Record<RuleRequest["command"], RuleCommand> = {
  connect: "connect",
  bind: "bind",
  udp_associate: "udp",
};

/**
 * Parses a port or port range.
 *
 * @param value `443`, `"443"` or `"8000-8999"`.
 * @returns The inclusive range.
 * @throws {RangeError} For anything else.
 */
export function parsePortRange(value: string | number): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(String(value).trim());
  const low = m ? Number(m[1]) : NaN;
  const high = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(low <= high && high <= 65535)) {
    throw new RangeError(
      `Expected a port or a range like 8000-8999, got ${JSON.stringify(value)}`,
    );
  }
  return [low, high];
}

/**
 * Checks an upstream proxy URL the way the outbound side will read it
 * (`parseUpstreamUrl`).
 *
 * @param url For example `socks5://10.0.0.1:1080`.
 * @throws {RangeError} When it is not a socks5, socks4a, socks4 or http URL;
 * the message never quotes credentials.
 */
export function checkProxyUrl(url: string): void {
  try {
    parseUpstreamUrl(url);
  } catch (error) {
    throw new RangeError((error as Error).message);
  }
}

/** Compiled rules; a {@linkcode Ruleset} that records its decisions. */
export class AccessRules implements Ruleset {
  #rules: _Compiled[];
  #groups: Map<string, Set<string>>;

  /**
   * Compiles rules.
   *
   * @param rules In order; the first match decides.
   * @param groups Group name to member usernames.
   * @throws {RangeError} Naming the rule, for a bad CIDR, port or URL.
   */
  constructor(
    rules: readonly AccessRule[],
    groups: Readonly<Record<string, readonly string[]>> = {},
  ) {
    this.#groups = new Map(
      Object.entries(groups).map(([g, members]) => [g, new Set(members)]),
    );
    this.#rules = rules.map((rule, i) => this.#compile(rule, i));
  }

  /** How many rules there are. */
  get size(): number {
    return this.#rules.length;
  }

  /** {@linkcode Ruleset}: the name as the client gave it. */
  permits(request: RuleRequest): boolean {
    // The association request of UDP ASSOCIATE names the client's own
    // address, and a BIND for anyone names no peer: their datagrams and
    // peers are judged by destination instead.
    const association = (request.command === "udp_associate" &&
      !request.datagram) ||
      (request.command === "bind" && isUnspecified(request.destination.host));
    const decision = this.decide(request, null, association);
    request.matchedRule = decision.rule;
    request.via = decision.via;
    request.source = decision.source;
    return decision.allow;
  }

  /** {@linkcode Ruleset}: one resolved address (or datagram destination). */
  permitsAddress(request: RuleRequest, address: string): boolean {
    const decision = this.decide(request, address, false);
    request.matchedRule = decision.rule;
    return decision.allow;
  }

  /**
   * Walks the rules.
   *
   * @param request Client, user, command, destination.
   * @param address A resolved address of a named destination, or `null`
   * while only the name is known.
   * @param anyDestination Skip the destination fields (a UDP association).
   * @returns The decision and the rule that made it.
   */
  decide(
    request: RuleRequest,
    address: string | null,
    anyDestination = false,
  ): RuleDecision {
    const host = request.destination.host;
    const literal = ipFamily(host) !== null ? canonicalIp(host) : null;
    const ip = address ?? literal;
    const name = literal === null ? host.toLowerCase().replace(/\.$/, "") : "";
    const client = canonicalIp(request.client.hostname);
    let pendingAllow: _Compiled | null = null;
    for (const rule of this.#rules) {
      if (!this.#matchesWho(rule, request, client)) continue;
      if (anyDestination) {
        // The destination comes later (datagrams, the BIND peer): a rule
        // about it is decided then.
        if (!rule.hasDestination && rule.ports === null) {
          return _decided(rule, pendingAllow);
        }
        if (rule.allow) pendingAllow ??= rule;
        continue;
      }
      if (rule.ports !== null) {
        const port = request.destination.port;
        if (!rule.ports.some(([lo, hi]) => port >= lo && port <= hi)) continue;
      }
      if (!rule.hasDestination) return _decided(rule, pendingAllow);
      const named = literal === null
        ? rule.hosts.has(name) ||
          rule.domains.some((d) => name === d || name.endsWith(`.${d}`)) ||
          rule.globs.some((g) => g.test(name))
        : rule.hosts.has(literal);
      if (named) return _decided(rule, pendingAllow);
      if (rule.to.length === 0) continue;
      if (ip === null) {
        // Only the resolved addresses can tell; allow the lookup when an
        // allowing rule may still match, and decide per address then.
        if (rule.allow) pendingAllow ??= rule;
        continue;
      }
      if (rule.to.some((block) => inBlock(ip, block))) {
        return _decided(rule, pendingAllow);
      }
    }
    if (pendingAllow) {
      return { allow: true, rule: pendingAllow.name, pending: true };
    }
    return { allow: false, rule: "default" };
  }

  #matchesWho(rule: _Compiled, request: RuleRequest, client: string): boolean {
    if (rule.commands && !rule.commands.has(_COMMAND[request.command])) {
      return false;
    }
    if (rule.clients && !rule.clients.some((b) => inBlock(client, b))) {
      return false;
    }
    if (rule.users) {
      const user = request.user;
      if (user === null || !rule.users.has(user)) return false;
    }
    return true;
  }

  #compile(rule: AccessRule, index: number): _Compiled {
    const name = rule.name ?? `rule ${index + 1}`;
    const where = (field: string, error: unknown) =>
      new RangeError(
        `Rule ${JSON.stringify(name)}, ${field}: ${(error as Error).message}`,
      );
    const cidrs = (field: "client" | "to") =>
      (rule[field] ?? []).map((c) => {
        try {
          return parseCidr(c.includes("/") ? c : _hostBlock(c));
        } catch {
          throw where(
            field,
            new Error(`expected a CIDR block, got ${JSON.stringify(c)}`),
          );
        }
      });
    let users: Set<string> | null = null;
    if (rule.user || rule.group) {
      users = new Set(rule.user ?? []);
      for (const group of rule.group ?? []) {
        const members = this.#groups.get(group);
        if (!members) {
          throw where(
            "group",
            new Error(`unknown group ${JSON.stringify(group)}`),
          );
        }
        for (const member of members) users.add(member);
      }
    }
    let ports: Array<[number, number]> | null = null;
    try {
      ports = rule.port ? rule.port.map(parsePortRange) : null;
    } catch (error) {
      throw where("port", error);
    }
    for (const url of rule.via ?? []) {
      try {
        checkProxyUrl(url);
      } catch (error) {
        throw where("via", error);
      }
    }
    if (rule.source !== undefined && ipFamily(rule.source) === null) {
      throw where(
        "source",
        new Error(`expected an IP address, got ${JSON.stringify(rule.source)}`),
      );
    }
    const to = cidrs("to");
    const hosts = new Set(
      (rule.host ?? []).map((h) =>
        ipFamily(h) !== null ? canonicalIp(h) : h.toLowerCase()
      ),
    );
    const domains = (rule.domain ?? []).map((d) =>
      d.toLowerCase().replace(/^\*?\./, "")
    );
    const globs = (rule.glob ?? []).map(_globToRegExp);
    return {
      name,
      allow: rule.action === "allow",
      clients: rule.client ? cidrs("client") : null,
      users,
      commands: rule.command ? new Set(rule.command) : null,
      to,
      hosts,
      domains,
      globs,
      hasDestination: to.length + hosts.size + domains.length + globs.length >
        0,
      ports,
      ...(rule.via && rule.via.length > 0 ? { via: rule.via } : {}),
      ...(rule.source !== undefined
        ? { source: canonicalIp(rule.source) }
        : {}),
    };
  }
}

/**
 * A rule matched; but when an earlier allowing rule waits for the address,
 * the address decides (that earlier rule comes first).
 */
function _decided(rule: _Compiled, pending: _Compiled | null): RuleDecision {
  if (pending) return { allow: true, rule: pending.name, pending: true };
  return {
    allow: rule.allow,
    rule: rule.name,
    ...(rule.via ? { via: rule.via } : {}),
    ...(rule.source !== undefined ? { source: rule.source } : {}),
  };
}

function _hostBlock(ip: string): string {
  return ipFamily(ip) === 6 ? `${ip}/128` : `${ip}/32`;
}

function _globToRegExp(glob: string): RegExp {
  const body = glob.toLowerCase().replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${body}$`);
}
