/**
 * Binding UDP relay sockets inside an operator's port range (a firewall
 * that opens only those ports).
 *
 * @module
 */

import { NetError } from "../runtime/net_error.ts";
import type { DatagramSocket, Network } from "../runtime/transport.ts";

/** An inclusive port range, low ≤ high, both 1–65535. */
export type PortRange = readonly [low: number, high: number];

/**
 * Parses `LOW-HIGH`.
 *
 * @example
 * ```ts
 * import { parsePortRange } from "./port_range.ts";
 * parsePortRange("40000-40099"); // [40000, 40099]
 * ```
 *
 * @param text For example `40000-40099`.
 * @returns The range.
 * @throws {RangeError} Quoting the text, when it is not a valid range.
 */
export function parsePortRange(text: string): PortRange {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text);
  const low = match ? Number(match[1]) : NaN;
  const high = match ? Number(match[2]) : NaN;
  if (!(low >= 1 && high <= 65_535 && low <= high)) {
    throw new RangeError(
      `Expected a port range LOW-HIGH within 1-65535, got ${
        JSON.stringify(text)
      }`,
    );
  }
  return [low, high];
}

/**
 * Binds a UDP socket on a port of the range: from a random start, each
 * port once, skipping ports in use.
 *
 * @param network The sockets.
 * @param hostname The address to bind.
 * @param range The ports allowed; `null` lets the system pick any.
 * @returns The socket.
 * @throws {NetError} Kind `address_in_use` when every port of the range is
 * taken; any other bind failure as it is.
 */
export async function listenDatagramIn(
  network: Network,
  hostname: string,
  range: PortRange | null,
): Promise<DatagramSocket> {
  if (range === null) return network.listenDatagram({ hostname, port: 0 });
  const [low, high] = range;
  const size = high - low + 1;
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = low + (start + i) % size;
    try {
      return await network.listenDatagram({ hostname, port });
    } catch (error) {
      if (!(error instanceof NetError && error.kind === "address_in_use")) {
        throw error;
      }
    }
  }
  throw new NetError(
    "address_in_use",
    `Every UDP port in ${low}-${high} is in use on ${hostname}`,
  );
}
