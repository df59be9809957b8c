/**
 * Closing resources that may already be closed.
 *
 * @module
 */

/** Resources this module has closed, so a second close costs nothing. */
const _closed = new WeakSet<object>();

/**
 * Closes a connection, listener or socket once, ignoring "already closed"
 * errors, so that every owner can close what it holds without tracking who
 * closed first.
 *
 * A repeated call returns at once: closing a closed resource throws (a
 * "bad resource" error in Deno), and building that error (with its stack)
 * is a measurable part of a short session's cost.
 *
 * @param resource Anything with `close()`.
 */
export function closeQuietly(resource: { close(): void } | undefined): void {
  if (!resource || _closed.has(resource)) return;
  _closed.add(resource);
  try {
    resource.close();
  } catch {
    // Already closed: nothing left to release.
  }
}
