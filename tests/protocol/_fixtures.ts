/**
 * Byte fixtures for codec tests: hex in and out, and an exact reader over
 * fixed chunks.
 *
 * @module
 */

import { UnexpectedEofError } from "../../src/protocol/errors.ts";
import type { ExactReader } from "../../src/protocol/reader.ts";

/**
 * Parses hex written in byte pairs, spaces optional ("05 01 00").
 *
 * @param text The hex.
 * @returns The bytes.
 */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) {
    throw new TypeError(`Not hex byte pairs: ${JSON.stringify(text)}`);
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

/**
 * Formats bytes as space-separated lower-case hex pairs, for assertions
 * whose failures read like the fixtures.
 *
 * @param bytes The bytes.
 * @returns For example `05 01 00`.
 */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * An {@linkcode ExactReader} over fixed chunks, as if each chunk were one
 * network read. Reads may span chunks; running out throws
 * `UnexpectedEofError` like the real reader.
 */
export class ChunkReader implements ExactReader {
  #pending: Uint8Array;
  /** The lengths asked for, in order. */
  readonly calls: number[] = [];

  /**
   * Creates the instance.
   *
   * @param chunks Hex strings or bytes, concatenated in order.
   */
  constructor(...chunks: Array<string | Uint8Array>) {
    const parts = chunks.map((c) => typeof c === "string" ? hex(c) : c);
    this.#pending = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      this.#pending.set(part, offset);
      offset += part.length;
    }
  }

  /** Reads exactly `length` bytes. */
  readExact(length: number): Promise<Uint8Array> {
    this.calls.push(length);
    if (length > this.#pending.length) {
      this.#pending = new Uint8Array(0);
      return Promise.reject(
        new UnexpectedEofError(`Wanted ${length} bytes`),
      );
    }
    const out = this.#pending.slice(0, length);
    this.#pending = this.#pending.subarray(length);
    return Promise.resolve(out);
  }

  /** The bytes not read yet, as hex. */
  rest(): string {
    return toHex(this.#pending);
  }
}

/**
 * A byte source that hands out `bytes` in reads of at most `size` bytes,
 * then end of stream: feed it to a `FrameReader` to prove a decoder does
 * not depend on how the bytes were split.
 *
 * @param bytes Everything the peer sends.
 * @param size The largest read, 1 for a byte at a time.
 * @returns The source.
 */
export function splitSource(
  bytes: Uint8Array,
  size: number,
): { read(buffer: Uint8Array): Promise<number | null> } {
  let offset = 0;
  return {
    read(buffer: Uint8Array) {
      if (offset >= bytes.length) return Promise.resolve(null);
      const n = Math.min(size, buffer.length, bytes.length - offset);
      buffer.set(bytes.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}
