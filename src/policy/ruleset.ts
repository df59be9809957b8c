/**
 * The access-control hook: which client may reach which destination.
 *
 * @module
 */

import type { SocksAddress } from "../protocol/address.ts";
import type { NetAddress } from "../runtime/transport.ts";

/** What a ruleset decides on. */
export interface RuleRequest {
  /** The client's address as seen by the server. */
  client: NetAddress;
  /** The authenticated username, or `null` without authentication. */
  user: string | null;
  /** Which command asked. */
  command: "connect" | "bind" | "udp_associate";
  /** The destination as the client named it (before any resolution). */
  destination: SocksAddress;
  /**
   * The protocol the client spoke (SOCKS4 requests carry no authenticated
   * user; HTTP ones come from `CONNECT` or a forwarded `GET http://...`).
   * Absent means `"socks5"`.
   */
  protocol?: "socks5" | "socks4" | "http";
  /** Set on the per-datagram checks of a UDP association. */
  datagram?: boolean;
  /**
   * The access rule that decided last (set by the rules, for the access
   * log).
   */
  matchedRule?: string;
  /** The upstream chain the deciding rule chose (set by the rules). */
  via?: readonly string[];
  /** The outbound source address the deciding rule chose (set by the rules). */
  source?: string;
}

/**
 * Decides whether a request may proceed. A refusal is answered with REP
 * X'02' (connection not allowed by ruleset).
 *
 * `permits` sees the destination as named, before any name is resolved, so
 * a rule can refuse a name without a DNS query. `permitsAddress` then sees
 * every resolved address (and, for UDP, every datagram's destination), so a
 * name cannot be used to smuggle a blocked address past the rules.
 */
export interface Ruleset {
  /**
   * Checks a request as the client named it.
   *
   * @param request Client, user, command and destination.
   * @returns Whether it may proceed.
   */
  permits(request: RuleRequest): boolean | Promise<boolean>;
  /**
   * Checks one concrete IP address the request would reach.
   *
   * @param request The same request.
   * @param address An IP literal (canonical form, no brackets).
   * @returns Whether that address may be used.
   */
  permitsAddress(
    request: RuleRequest,
    address: string,
  ): boolean | Promise<boolean>;
}

/** Permits everything: the default on loopback-only servers. */
export const permitAll: Ruleset = {
  permits: () => true,
  permitsAddress: () => true,
};
