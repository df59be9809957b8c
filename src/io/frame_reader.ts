/**
 * Exact-length reads of handshake frames over a `ReadableStreamBYOBReader`.
 *
 * @module
 */

import type { ExactReader } from "../protocol/reader.ts";

/** Large enough for the largest handshake frame (RFC 1929: 513 bytes). */
const _CAPACITY = 1024;

/**
 * Reads frames exactly, whatever the segmentation: a frame split over many
 * TCP segments is assembled, and several frames in one segment are handed out
 * one at a time.
 *
 * Each network read asks the BYOB reader for at least the bytes still
 * missing (`read(view, { min })`) into the free space of one buffer, so a
 * client that pipelines greeting, request and payload costs one read, not
 * one per frame. Bytes past the last frame are handed back by
 * {@linkcode FrameReader.release} for the relay to forward.
 *
 * @example
 * ```ts
 * import { FrameReader } from "./frame_reader.ts";
 * const stream = new ReadableStream({
 *   type: "bytes",
 *   start(c) { c.enqueue(Uint8Array.of(5, 1, 0, 42)); c.close(); },
 * });
 * const reader = new FrameReader(stream);
 * await reader.readExact(3); // 05 01 00
 * reader.release(); // Uint8Array [42]
 * ```
 */
export class FrameReader implements ExactReader {
  #reader: ReadableStreamBYOBReader;
  #buffer = new Uint8Array(_CAPACITY);
  #start = 0;
  #end = 0;

  #greedy: boolean;

  /**
   * Creates the instance.
   *
   * @param readable A byte stream, e.g. `conn.readable`. It is locked until
   * {@linkcode FrameReader.release}.
   * @param options `greedy: false` reads exactly the missing bytes and never
   * past the frame, for a client whose stream must stay untouched after the
   * handshake (default `true`: fill the free buffer space, fewer reads).
   */
  constructor(
    readable: ReadableStream<Uint8Array>,
    options: { greedy?: boolean } = {},
  ) {
    this.#reader = readable.getReader({ mode: "byob" });
    this.#greedy = options.greedy ?? true;
  }

  /**
   * Reads exactly `length` bytes. The view is valid until the next call.
   *
   * @param length 1 to 1024.
   * @returns The bytes.
   * @throws {Deno.errors.UnexpectedEof} When the stream ends first.
   */
  async readExact(length: number): Promise<Uint8Array> {
    if (length < 1 || length > _CAPACITY) {
      throw new RangeError(
        `Frame length must be 1-${_CAPACITY}, got ${length}`,
      );
    }
    if (this.#end - this.#start < length) await this.#fill(length);
    const out = this.#buffer.subarray(this.#start, this.#start + length);
    this.#start += length;
    return out;
  }

  /**
   * Releases the stream and returns the bytes read past the last frame
   * (pipelined data the relay must forward first).
   *
   * @returns A copy of the unread bytes; empty when there are none.
   */
  release(): Uint8Array {
    const rest = this.takeRest();
    this.#reader.releaseLock();
    return rest;
  }

  /**
   * Returns the bytes read past the last frame but keeps the stream locked:
   * for an owner that reads the connection directly from here on. It skips
   * `releaseLock()`, which rejects the reader's `closed` promise with a new
   * `TypeError` and measurably slows short sessions.
   *
   * @returns A copy of the unread bytes; empty when there are none.
   */
  takeRest(): Uint8Array {
    const rest = this.#buffer.slice(this.#start, this.#end);
    this.#start = this.#end = 0;
    return rest;
  }

  async #fill(length: number): Promise<void> {
    // Move what is buffered to the front so the free space is contiguous.
    this.#buffer.copyWithin(0, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
    while (this.#end < length) {
      const view = new Uint8Array(
        this.#buffer.buffer,
        this.#end,
        this.#greedy ? _CAPACITY - this.#end : length - this.#end,
      );
      const missing = length - this.#end;
      let result: ReadableStreamReadResult<Uint8Array<ArrayBuffer>>;
      try {
        result = await this.#reader.read(view, { min: missing });
      } catch (error) {
        // The stream kept the buffer; a fresh one keeps release() working.
        this.#discard();
        // A byte stream whose close was requested with fewer than `min` bytes
        // queued errors with a TypeError (Streams spec,
        // ReadableByteStreamControllerPullInto): that is an early end too.
        if (!(error instanceof TypeError)) throw error;
        throw new Deno.errors.UnexpectedEof(
          `Stream ended ${missing} bytes before the frame's end`,
          { cause: error },
        );
      }
      const { value, done } = result;
      // The BYOB reader transfers the buffer; keep the one it hands back.
      if (value) this.#buffer = new Uint8Array(value.buffer);
      else this.#discard();
      if (done || !value) {
        throw new Deno.errors.UnexpectedEof(
          `Stream ended ${missing} bytes before the frame's end`,
        );
      }
      this.#end += value.length;
    }
  }

  #discard(): void {
    this.#buffer = new Uint8Array(_CAPACITY);
    this.#start = this.#end = 0;
  }
}
