/**
 * Bounded waiting for the hardening tests: every wait has an upper bound in
 * time (to turn a hang into a failure) and every poll an upper bound in
 * count. The bounds are generous hang detectors, never timing assertions.
 *
 * @module
 */
import type { Connection } from "../../src/runtime/transport.ts";

/**
 * Resolves like `promise`, or rejects when it has not settled within `ms`.
 *
 * @param promise What to wait for.
 * @param ms The hang bound.
 * @param what Named in the error.
 * @returns The promise's value.
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: still pending after ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `check` until it returns true: at most `ms` milliseconds and at most
 * `ms / 10 + 1` polls.
 *
 * @param check The condition.
 * @param what Named in the error.
 * @param ms The hang bound.
 */
export async function eventually(
  check: () => boolean,
  what: string,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  const polls = Math.ceil(ms / 10) + 1;
  for (let i = 0; i < polls && Date.now() <= deadline; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!check()) throw new Error(`${what}: not true after ${ms} ms`);
}

/**
 * Reads until EOF or reset and returns what arrived; never throws on reset.
 *
 * @param conn The connection.
 * @param limit Stop after this many bytes (a bound on a misbehaving peer).
 * @returns The bytes and how the stream ended.
 */
export async function readUntilClosed(
  conn: Connection,
  limit = 1 << 20,
): Promise<{ bytes: Uint8Array; end: "eof" | "reset" | "limit" }> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(16 * 1024);
  let end: "eof" | "reset" | "limit" = "limit";
  while (total < limit) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch (error) {
      if (
        error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.BadResource ||
        error instanceof Deno.errors.BrokenPipe
      ) {
        end = "reset";
        break;
      }
      throw error;
    }
    if (n === null) {
      end = "eof";
      break;
    }
    chunks.push(buffer.slice(0, n));
    total += n;
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { bytes, end };
}

/** Closes anything closable, ignoring "already closed". */
export function closeAll(resources: Iterable<{ close(): void }>): void {
  for (const resource of resources) {
    try {
      resource.close();
    } catch { /* already closed */ }
  }
}
