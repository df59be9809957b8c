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

/**
 * Dials with `Deno.connect`, one address, no family racing of its own, with
 * TCP_NODELAY set: the relay forwards what it reads at once, and Nagle's
 * algorithm would hold a split message's second write for the peer's delayed
 * ACK (about 40 ms).
 */
export const directDialer: Dialer = {
  async dial(hostname, port, signal) {
    const conn = await Deno.connect({
      hostname,
      port,
      signal,
      autoSelectFamily: false,
    });
    try {
      conn.setNoDelay(true);
    } catch {
      // Reset already: the relay's first read or write reports it.
    }
    return conn;
  },
};
