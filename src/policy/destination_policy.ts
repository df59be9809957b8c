/**
 * A ruleset that keeps clients away from the proxy's own neighbourhood:
 * loopback, link-local, private and cloud-metadata addresses, also when an
 * IPv6 transition address (NAT64, 6to4, Teredo, mapped, compatible) carries
 * one of them inside.
 *
 * @module
 */

import { embeddedIPv4 } from "../protocol/embedded_ipv4.ts";
import { isV4Mapped, parseIPv4, parseIPv6 } from "../protocol/ip.ts";
import type { RuleRequest, Ruleset } from "./ruleset.ts";

/** Options of {@linkcode blockInternalDestinations}. */
export interface DestinationPolicyOptions {
  /**
   * CIDR blocks that stay reachable even though they are internal, for
   * example `["10.20.0.0/16"]`. A block exempts the form of an address it
   * holds: an IPv4 block exempts the IPv4 address inside an IPv6
   * transition address too, an IPv6 block only the IPv6 literal (see
   * {@linkcode blockInternalDestinations}).
   * @default {[]}
   */
  allow?: readonly string[];
  /** A ruleset consulted after this policy permits, for further rules. */
  next?: Ruleset;
}

/**
 * The address blocks refused by {@linkcode blockInternalDestinations}, with
 * why. An IPv6 address that carries an IPv4 address is checked as that IPv4
 * address as well as itself, because a gateway on the path delivers it
 * there: IPv4-mapped `::ffff:0:0/96` and IPv4-compatible `::/96` (RFC 4291;
 * `::` and `::1` stay IPv6), NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`
 * (RFC 6052, 8215), 6to4 `2002::/16` (RFC 3056, bits 16-47) and Teredo
 * `2001::/32` (RFC 4380, the client address in the last 32 bits, XOR-ed).
 */
export const INTERNAL_BLOCKS: readonly string[] = [
  "0.0.0.0/8", // "this network"; 0.0.0.0 reaches the local host on Linux
  "10.0.0.0/8", // RFC 1918 private
  "100.64.0.0/10", // RFC 6598 carrier-grade NAT
  "127.0.0.0/8", // loopback
  "169.254.0.0/16", // link-local, includes 169.254.169.254 cloud metadata
  "172.16.0.0/12", // RFC 1918 private
  "192.0.0.0/24", // IETF protocol assignments
  "192.168.0.0/16", // RFC 1918 private
  "198.18.0.0/15", // benchmarking
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved, includes 255.255.255.255 broadcast
  "::/128", // unspecified
  "::1/128", // loopback
  "64:ff9b:1::/48", // local-use NAT64
  "fc00::/7", // unique local, includes fd00:ec2::254 cloud metadata
  "fe80::/10", // link-local
  "fec0::/10", // site-local, deprecated by RFC 3879, still found on old networks
  "ff00::/8", // multicast
];

interface _Block {
  bytes: Uint8Array;
  bits: number;
}

/**
 * Parses an IPv4 or IPv6 CIDR block ("10.0.0.0/8", "fc00::/7").
 *
 * @param cidr The block.
 * @returns Its network bytes and prefix length.
 * @throws {RangeError} When it is not a valid block.
 */
export function parseCidr(cidr: string): { bytes: Uint8Array; bits: number } {
  const [ip, bitsText, ...extra] = cidr.split("/");
  const bytes = parseIPv4(ip ?? "") ?? parseIPv6(ip ?? "");
  const bits = Number(bitsText);
  if (
    !bytes || bitsText === undefined || !/^\d+$/.test(bitsText) ||
    bits > bytes.length * 8 || extra.length > 0
  ) {
    throw new RangeError(`Invalid CIDR block ${JSON.stringify(cidr)}`);
  }
  return { bytes, bits };
}

/**
 * Tells whether an IP literal lies inside a block.
 *
 * @param address IPv4 or IPv6 literal; IPv4-mapped IPv6 is matched as IPv4.
 * @param block From {@linkcode parseCidr}.
 * @returns `true` when inside.
 */
export function inBlock(
  address: string,
  block: { bytes: Uint8Array; bits: number },
): boolean {
  let bytes = parseIPv4(address) ?? parseIPv6(address);
  if (!bytes) return false;
  if (bytes.length === 16 && isV4Mapped(bytes)) bytes = bytes.subarray(12);
  return _inside(bytes, block);
}

/** Whether address bytes lie inside a block of the same family. */
function _inside(bytes: Uint8Array, block: _Block): boolean {
  if (bytes.length !== block.bytes.length) return false;
  const whole = block.bits >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== block.bytes[i]) return false;
  const rest = block.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[whole]! & mask) === (block.bytes[whole]! & mask);
}

/**
 * Builds a ruleset that refuses every destination in
 * {@linkcode INTERNAL_BLOCKS} (after resolution, so a name pointing inside is
 * refused too), except blocks listed in `allow`. This is what keeps an
 * exposed proxy from becoming a door into its own network.
 *
 * An address has up to two forms, judged one by one: the literal, and the
 * IPv4 address an IPv6 transition address carries. It is refused when
 * either form is internal and no `allow` block holds that same form. So
 * with `allow: ["10.1.0.0/16"]`, `64:ff9b::10.1.2.3` is permitted (the
 * literal is public, the IPv4 form exempt), but `64:ff9b:1::10.1.2.3` is
 * not: the local-use NAT64 prefix is internal as a literal too, and needs
 * `64:ff9b:1::/48` in `allow` as well. An exemption for a wide IPv6 block
 * (`2002::/16`, `::/0`) thus never opens the internal IPv4 hosts behind a
 * gateway; only an IPv4 block naming them does.
 *
 * @example
 * ```ts
 * import { blockInternalDestinations } from "./destination_policy.ts";
 * const rules = blockInternalDestinations({ allow: ["10.1.0.0/16"] });
 * ```
 *
 * @param options Exceptions and a further ruleset.
 * @returns The ruleset.
 */
export function blockInternalDestinations(
  options: DestinationPolicyOptions = {},
): Ruleset {
  const blocked: _Block[] = INTERNAL_BLOCKS.map(parseCidr);
  const allowed: _Block[] = (options.allow ?? []).map(parseCidr);
  const next = options.next;
  return {
    permits: (request: RuleRequest) => next ? next.permits(request) : true,
    permitsAddress(request: RuleRequest, address: string) {
      if (_refused(address, blocked, allowed)) return false;
      return next ? next.permitsAddress(request, address) : true;
    },
  };
}

/**
 * The policy's verdict on one address. It runs per UDP datagram, so the
 * address is parsed once and the blocks were parsed when the ruleset was
 * built.
 */
function _refused(
  address: string,
  blocked: readonly _Block[],
  allowed: readonly _Block[],
): boolean {
  const literal = parseIPv4(address) ?? parseIPv6(address);
  // Names were resolved before the policy is asked; a non-IP is in no block.
  if (!literal) return false;
  if (_internal(literal, blocked, allowed)) return true;
  const v4 = embeddedIPv4(literal);
  return v4 !== null && _internal(v4, blocked, allowed);
}

/** Whether one form of an address is internal and not exempted. */
function _internal(
  bytes: Uint8Array,
  blocked: readonly _Block[],
  allowed: readonly _Block[],
): boolean {
  return blocked.some((b) => _inside(bytes, b)) &&
    !allowed.some((b) => _inside(bytes, b));
}
