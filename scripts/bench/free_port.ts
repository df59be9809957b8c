/**
 * Picking a free loopback port for servers that cannot listen on port 0
 * and report the port they got (microsocks, Dante).
 *
 * @module
 */

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago. Another
 * process could take it before the caller binds it; on a benchmark machine
 * that race is rare enough, and the server start then fails loudly.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    return listener.addr.port;
  } finally {
    listener.close();
  }
}
