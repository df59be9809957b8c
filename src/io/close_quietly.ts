/**
 * Closing resources that may already be closed.
 *
 * @module
 */

/**
 * Closes a connection, listener or socket, ignoring "already closed" errors,
 * so that every owner can close what it holds without tracking who closed
 * first.
 *
 * @param resource Anything with `close()`.
 */
export function closeQuietly(resource: { close(): void } | undefined): void {
  if (!resource) return;
  try {
    resource.close();
  } catch {
    // Already closed (Deno.errors.BadResource): nothing left to release.
  }
}
