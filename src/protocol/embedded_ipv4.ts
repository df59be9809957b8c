/**
 * The IPv4 address an IPv6 address carries inside it, for the transition
 * forms a gateway on the path may turn back into IPv4. Pure, no sockets.
 *
 * @module
 */

/**
 * Finds the IPv4 address embedded in an IPv6 address, for the forms whose
 * traffic a host, translator or relay on the path delivers to that IPv4
 * address:
 *
 * | form                         | prefix            | IPv4 bits         | RFC          |
 * | ---------------------------- | ----------------- | ----------------- | ------------ |
 * | IPv4-mapped                  | `::ffff:0:0/96`   | 96-127            | 4291 2.5.5.2 |
 * | IPv4-compatible (deprecated) | `::/96`           | 96-127            | 4291 2.5.5.1 |
 * | NAT64 well-known prefix      | `64:ff9b::/96`    | 96-127            | 6052 2.1     |
 * | NAT64 local-use prefix       | `64:ff9b:1::/48`  | 96-127            | 8215         |
 * | 6to4                         | `2002::/16`       | 16-47             | 3056 2       |
 * | Teredo                       | `2001::/32`       | 96-127 XOR 1s     | 4380 4       |
 *
 * ```
 *  Teredo (RFC 4380 section 4):
 *  +-------------+-------------+-------+------+-------------+
 *  | Prefix      | Server IPv4 | Flags | Port | Client IPv4 |
 *  | 2001:0000   | 32 bits     | 16    | 16   | 32, XOR-ed  |
 *  +-------------+-------------+-------+------+-------------+
 * ```
 *
 * `::` and `::1` lie in `::/96` but are the IPv6 unspecified and loopback
 * addresses (RFC 4291 2.5.2, 2.5.3), not IPv4-compatible ones, so they
 * embed nothing; every other `::a.b.c.d` embeds `a.b.c.d`.
 *
 * For Teredo the client address is returned, not the server address in
 * bits 32-63: a relay sends the data straight to the client's mapped
 * address (RFC 4380 5.4), so the client is where the bytes end up; the
 * server only helps clients qualify and passes on empty bubbles.
 *
 * RFC 8215 lets an operator carve any RFC 6052 prefix length out of
 * `64:ff9b:1::/48`; the /96 layout, the common one, is read here. Under a
 * shorter layout bits 96-127 are the suffix, which RFC 6052 2.2 wants zero
 * (read as 0.0.0.0, internal) but a translator may ignore; the destination
 * policy refuses the whole local-use prefix as a literal anyway, so this
 * reading only decides once an operator has exempted that prefix.
 *
 * @example
 * ```ts
 * import { embeddedIPv4 } from "./embedded_ipv4.ts";
 * import { parseIPv6 } from "./ip.ts";
 * const v4 = embeddedIPv4(parseIPv6("64:ff9b::10.1.2.3")!);
 * // v4 is Uint8Array [10, 1, 2, 3]
 * ```
 *
 * @param bytes An address: sixteen bytes for IPv6; four (IPv4) embed
 * nothing.
 * @returns A new four-byte IPv4 address, or `null` when `bytes` is not one
 * of the forms above.
 */
export function embeddedIPv4(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length !== 16) return null;
  const b = bytes;
  if (_zero(b, 0, 10)) {
    if (b[10] === 0xff && b[11] === 0xff) return b.slice(12, 16);
    if (b[10] !== 0 || b[11] !== 0) return null;
    // :: and ::1 are IPv6's own unspecified and loopback addresses.
    if (_zero(b, 12, 15) && b[15]! <= 1) return null;
    return b.slice(12, 16);
  }
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
    if (_zero(b, 4, 12)) return b.slice(12, 16);
    if (b[4] === 0x00 && b[5] === 0x01) return b.slice(12, 16);
    return null;
  }
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6);
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) {
    // RFC 4380 stores the client address inverted so that NATs which
    // rewrite addresses found in payloads leave it alone.
    return Uint8Array.of(
      ~b[12]! & 0xff,
      ~b[13]! & 0xff,
      ~b[14]! & 0xff,
      ~b[15]! & 0xff,
    );
  }
  return null;
}

/** Whether `bytes[from..to)` are all zero. */
function _zero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}
