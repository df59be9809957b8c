/**
 * Opening many tunnels with bounded concurrency, and holding them open with
 * their relay running: shared by the idle-memory workload and the
 * burst-memory script.
 *
 * @module
 */

import { Dialer, type Route } from "./dial.ts";
import { readExact, writeAll } from "./socks_client.ts";

/** Errors a pool counted, and the last one's text. */
export interface PoolErrors {
  /** How many tasks failed. */
  count: number;
  /** The last failure, as `Name: message`. */
  last: string;
}

/**
 * Runs `task(i, dialer)` for i in [0, count) with at most `concurrency` in
 * flight, starting no new task after `limitMs`. Each worker has its own
 * {@link Dialer} (a dialer holds one handshake's scratch buffer).
 *
 * @param count How many tasks.
 * @param concurrency How many at once.
 * @param limitMs Time after which no new task starts.
 * @param task The work for index `i`.
 * @param route Where the dialers connect.
 * @param errors Counts failures; a failed task does not stop the others.
 * @returns How many tasks succeeded.
 */
export async function runPool(
  count: number,
  concurrency: number,
  limitMs: number,
  task: (i: number, dialer: Dialer) => Promise<void>,
  route: Route,
  errors: PoolErrors,
): Promise<number> {
  const deadline = performance.now() + limitMs;
  let next = 0;
  let ok = 0;
  const worker = async () => {
    const dialer = new Dialer(route);
    while (next < count && performance.now() < deadline) {
      const i = next++;
      try {
        await task(i, dialer);
        ok++;
      } catch (error) {
        errors.count++;
        errors.last = error instanceof Error
          ? `${error.name}: ${error.message}`
          : String(error);
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, worker),
  );
  return ok;
}

/**
 * Opens a tunnel and echoes `message` through it once, so the proxy's relay
 * is running. The tunnel goes to `keep` as soon as it is open, so the caller
 * closes it even when the echo fails.
 *
 * @param dialer The worker's dialer; the route must end at an echo server.
 * @param message What to echo.
 * @param keep Takes the open tunnel.
 */
export async function openEchoedTunnel(
  dialer: Dialer,
  message: Uint8Array,
  keep: (conn: Deno.TcpConn) => void,
): Promise<void> {
  const conn = await dialer.open();
  keep(conn);
  await writeAll(conn, message);
  await readExact(conn, new Uint8Array(message.length), message.length);
}
