/**
 * An outbound whose every CONNECT fails with a given error, recording the
 * requests it was handed: for tests of what reaches the outbound side (the
 * rules' `via` and `source`) and of how a failure is answered, with no
 * connection ever made.
 *
 * @module
 */

import type { Outbound, OutboundRequest } from "../../src/outbound/outbound.ts";

/**
 * Creates the outbound.
 *
 * @param error What each `connect()` rejects with.
 * @returns The outbound and the requests its `connect()` saw, in order.
 */
export function failingOutbound(
  error: unknown,
): { outbound: Outbound; requests: OutboundRequest[] } {
  const requests: OutboundRequest[] = [];
  const outbound: Outbound = {
    connect(request) {
      requests.push(request);
      return Promise.reject(error);
    },
    bind: () => Promise.reject(new Error("unused")),
    udp: () => Promise.reject(new Error("unused")),
  };
  return { outbound, requests };
}
