/**
 * The outbound connection hook and its default, `Deno.connect`.
 *
 * @module
 */

/**
 * Opens outbound TCP connections. Replace it to dial through an upstream
 * proxy, to bind a source address, or to fake the network in tests.
 */
export interface Dialer {
  /**
   * Connects to one IP address.
   *
   * @param hostname An IP literal (names are resolved before dialing, so the
   * ruleset sees every address).
   * @param port The port.
   * @param signal Aborts the attempt (connect deadline, session end, or a
   * faster attempt winning).
   * @returns The connection.
   */
  dial(hostname: string, port: number, signal: AbortSignal): Promise<Deno.Conn>;
}

/** Dials with `Deno.connect`, one address, no family racing of its own. */
export const directDialer: Dialer = {
  dial(hostname, port, signal) {
    return Deno.connect({
      hostname,
      port,
      signal,
      autoSelectFamily: false,
    });
  },
};
