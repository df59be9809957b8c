/**
 * IP address literals: parsing to bytes, formatting from bytes (RFC 5952
 * canonical text for IPv6) and classification. Pure functions, no sockets.
 *
 * @module
 */

/**
 * Parses a dotted-quad IPv4 literal ("192.0.2.1").
 *
 * @param text The literal; no leading zeros, exactly four parts.
 * @returns The four address bytes, or `null` when `text` is not one.
 */
export function parseIPv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  return _scanIPv4(text, out) ? out : null;
}

/**
 * Whether `text` is a dotted-quad IPv4 literal, without building its bytes:
 * the family and canonical-form checks run several times per session.
 */
function _isIPv4(text: string): boolean {
  return _scanIPv4(text, null);
}

function _scanIPv4(text: string, out: Uint8Array | null): boolean {
  // A hand-written scan: this runs several times per session (request,
  // reply, logs), where split() and a regular expression per part showed up
  // in profiles.
  if (text.length < 7 || text.length > 15) return false;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 46; // "." ends it
    if (code === 46) {
      if (digits === 0 || part > 3) return false;
      if (out) out[part] = value;
      part++;
      value = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      // Leading zeros are rejected because some resolvers read them as octal.
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (code - 48);
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  return part === 4;
}

/**
 * Parses an IPv6 literal, with or without `::` compression and with an
 * optional trailing dotted-quad ("::ffff:192.0.2.1"). Brackets and zone ids
 * are not accepted: callers strip brackets, and zones are not routable here.
 *
 * @param text The literal.
 * @returns The sixteen address bytes, or `null` when `text` is not one.
 */
export function parseIPv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45 || !text.includes(":")) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === "") return [];
    const words: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIPv4(piece);
        if (!v4) return null;
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        words.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return words;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return null;
  // A dotted quad is only allowed at the very end of the address.
  if (halves.length === 2 && halves[0]!.includes(".")) return null;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const words = [...head, ...new Array(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i]! >> 8;
    out[i * 2 + 1] = words[i]! & 0xff;
  }
  return out;
}

/**
 * Formats four bytes as a dotted-quad IPv4 literal.
 *
 * @param bytes At least four bytes; the first four are used.
 * @returns The literal.
 */
export function formatIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * Formats sixteen bytes as an RFC 5952 canonical IPv6 literal: lower case,
 * no leading zeros, the longest run of two or more zero groups as `::`.
 *
 * @param bytes At least sixteen bytes; the first sixteen are used.
 * @returns The literal, without brackets.
 */
export function formatIPv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    words.slice(from, to).map((w) => w.toString(16)).join(":");
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** The family of an IP literal, or `null` for anything else. */
export type IpFamily = 4 | 6;

/**
 * Tells whether `text` is an IP literal and which family.
 *
 * @param text A host string, without brackets.
 * @returns 4, 6, or `null` for a domain name.
 */
export function ipFamily(text: string): IpFamily | null {
  if (_isIPv4(text)) return 4;
  if (parseIPv6(text)) return 6;
  return null;
}

/**
 * Rewrites an IP literal into its canonical text form ("2001:DB8:0:0::1"
 * becomes "2001:db8::1"), so addresses compare as strings. IPv4-mapped IPv6
 * addresses ("::ffff:127.0.0.1") become plain IPv4 ("127.0.0.1").
 *
 * @param text An IP literal without brackets.
 * @returns The canonical literal, or `text` unchanged if it is not an IP.
 */
export function canonicalIp(text: string): string {
  // parseIPv4 accepts only the canonical form (four decimal parts, no
  // leading zeros), so a literal it accepts is returned as it is.
  if (_isIPv4(text)) return text;
  const v6 = parseIPv6(text);
  if (!v6) return text;
  if (isV4Mapped(v6)) return formatIPv4(v6.subarray(12));
  return formatIPv6(v6);
}

/**
 * Tells whether an IP literal is a loopback address (127.0.0.0/8, ::1, or
 * IPv4-mapped loopback).
 *
 * @param text An IP literal without brackets, or a host name.
 * @returns `true` only for loopback IP literals and "localhost".
 */
export function isLoopback(text: string): boolean {
  if (text === "localhost") return true;
  const v4 = parseIPv4(text);
  if (v4) return v4[0] === 127;
  const v6 = parseIPv6(text);
  if (!v6) return false;
  if (isV4Mapped(v6)) return v6[12] === 127;
  return v6.every((b, i) => b === (i === 15 ? 1 : 0));
}

/**
 * Tells whether an IP literal is the unspecified address (0.0.0.0 or ::).
 *
 * @param text An IP literal without brackets.
 * @returns `true` for all-zero addresses.
 */
export function isUnspecified(text: string): boolean {
  const bytes = parseIPv4(text) ?? parseIPv6(text);
  return bytes !== null && bytes.every((b) => b === 0);
}

/**
 * Tells whether sixteen bytes are an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d).
 *
 * @param v6 Sixteen address bytes.
 * @returns `true` for mapped addresses.
 */
export function isV4Mapped(v6: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (v6[i] !== 0) return false;
  return v6[10] === 0xff && v6[11] === 0xff;
}
