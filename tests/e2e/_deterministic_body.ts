/**
 * A large response body that is the same on every run, produced chunk by
 * chunk so that a 64 MiB download never exists as one buffer in the test
 * process, plus its sha256 so a client-side hash can be checked against it.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Size of every generated chunk but the last; 1 MiB keeps memory flat. */
const CHUNK_BYTES = 1024 * 1024;

/** Seed of the xorshift generator; any non-zero value works. */
const SEED = 0x2545f491;

/**
 * Yields `size` pseudo-random bytes, identical on every call.
 *
 * A PRNG (not a repeated pattern) is used so that a proxy which drops,
 * duplicates or reorders whole chunks still changes the hash.
 */
export function* deterministicChunks(size: number): Generator<Uint8Array> {
  let state = SEED;
  let remaining = size;
  while (remaining > 0) {
    const length = Math.min(CHUNK_BYTES, remaining);
    const words = new Uint32Array(Math.ceil(length / 4));
    for (let i = 0; i < words.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      words[i] = state >>> 0;
    }
    yield new Uint8Array(words.buffer, 0, length);
    remaining -= length;
  }
}

/** Streams {@link deterministicChunks} as a body for a `Response`. */
export function deterministicBody(size: number): ReadableStream<Uint8Array> {
  const chunks = deterministicChunks(size);
  // Pull-based with a zero high-water mark: a chunk is made only when the
  // consumer asks, so a slow client never makes the server buffer 64 MiB.
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  }, { highWaterMark: 0 });
}

const _digests = new Map<number, string>();

/** Hex sha256 of the `size`-byte deterministic body, computed once per size. */
export function deterministicSha256(size: number): string {
  let digest = _digests.get(size);
  if (digest === undefined) {
    const hash = createHash("sha256");
    for (const chunk of deterministicChunks(size)) hash.update(chunk);
    digest = hash.digest("hex");
    _digests.set(size, digest);
  }
  return digest;
}
