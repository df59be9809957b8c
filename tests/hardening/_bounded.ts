/**
 * Reading a connection to its end and closing leftovers, for the hardening
 * tests (bounded waiting itself is in `../_helpers/wait.ts`).
 *
 * @module
 */
import type { Connection } from "../../src/runtime/transport.ts";

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
