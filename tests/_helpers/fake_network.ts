/**
 * Deno's real network with a fake outbound `connect`, so tests decide what
 * each dial does (refuse, hang, succeed with a real local target) and can
 * record every attempt: no test ever dials anything but what it chose.
 *
 * @module
 */

import { denoNetError, denoNetwork } from "../../src/runtime/deno/network.ts";
import type { Connection, Network } from "../../src/runtime/transport.ts";

/** Opens (or fakes) one outbound connection. */
export interface FakeDialer {
  /**
   * Called for every outbound connection attempt.
   *
   * @param hostname The IP literal the server dials.
   * @param port The port.
   * @param signal Aborts the attempt.
   */
  dial(
    hostname: string,
    port: number,
    signal: AbortSignal,
  ): Promise<Connection>;
}

/**
 * A network whose listeners and UDP sockets are real and whose outbound
 * connections go through `dialer`. What the fake rejects with is converted
 * as the Deno adapter converts Deno's own errors, so a fake may throw
 * `Deno.errors.ConnectionRefused` like the real thing.
 *
 * @param dialer The fake.
 * @returns The network, for `ServeOptions.network`.
 */
export function dialingThrough(dialer: FakeDialer): Network {
  return {
    ...denoNetwork,
    connect: (options) =>
      dialer.dial(
        options.hostname,
        options.port,
        options.signal ?? new AbortController().signal,
      ).catch((error) => {
        throw options.signal?.aborted
          ? options.signal.reason
          : denoNetError(error);
      }),
  };
}
