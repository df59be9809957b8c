/**
 * Exact-length reads of handshake frames straight from a connection.
 *
 * @module
 */

import { UnexpectedEofError } from "../protocol/errors.ts";
import type { ExactReader } from "../protocol/reader.ts";

/** Large enough for the largest handshake frame (RFC 1929: 513 bytes). */
const _CAPACITY = 1024;

/** Where the frames come from: any `Connection` fits. */
export interface ByteSource {
  /**
   * Reads into `buffer`.
   *
   * @param buffer Where to put the bytes.
   * @returns How many bytes arrived, or `null` at end of stream.
   */
  read(buffer: Uint8Array): Promise<number | null>;
}

/**
 * Reads frames exactly, whatever the segmentation: a frame split over many
 * TCP segments is assembled, and several frames in one segment are handed out
 * one at a time.
 *
 * In greedy mode (the server's) each read fills the free space of one
 * buffer, so a client that pipelines greeting, request and payload costs one
 * read, not one per frame; bytes past the last frame come back from
 * {@linkcode FrameReader.rest} for the relay to forward. With
 * `greedy: false` (the client's) each read asks for exactly the bytes still
 * missing, so nothing after the last frame is consumed.
 *
 * It reads with `conn.read(view)` rather than through `conn.readable` and a
 * `ReadableStreamBYOBReader`: see README, "Design", for the measurement.
 *
 * @example
 * ```ts
 * import { FrameReader } from "./frame_reader.ts";
 * const bytes = Uint8Array.of(5, 1, 0, 42);
 * let sent = false;
 * const source = {
 *   read(buffer: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     buffer.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * const reader = new FrameReader(source);
 * await reader.readExact(3); // 05 01 00
 * reader.rest(); // Uint8Array [42]
 * ```
 */
export class FrameReader implements ExactReader {
  #source: ByteSource;
  #buffer = new Uint8Array(_CAPACITY);
  #start = 0;
  #end = 0;
  #greedy: boolean;

  /**
   * Creates a reader over a connection.
   *
   * @param source A connection (anything with `read(buffer)`).
   * @param options `greedy: false` never reads past the current frame
   * (default `true`: fill the free buffer space, fewer reads).
   */
  constructor(source: ByteSource, options: { greedy?: boolean } = {}) {
    this.#source = source;
    this.#greedy = options.greedy ?? true;
  }

  /**
   * Reads exactly `length` bytes. The view is valid until the next call.
   *
   * @param length 1 to 1024.
   * @returns The bytes.
   * @throws {UnexpectedEofError} When the stream ends first.
   */
  async readExact(length: number): Promise<Uint8Array> {
    _checkLength(length);
    if (this.#end - this.#start < length) await this.#fill(length);
    const out = this.#buffer.subarray(this.#start, this.#start + length);
    this.#start += length;
    return out;
  }

  /**
   * Returns the next `length` bytes without consuming them: the front door
   * looks at the first bytes to tell protocols apart, and the front-end
   * then reads the same bytes as part of its first frame.
   *
   * @param length 1 to 1024.
   * @returns The bytes; valid until the next call.
   * @throws {UnexpectedEofError} When the stream ends first.
   */
  async peek(length: number): Promise<Uint8Array> {
    _checkLength(length);
    if (this.#end - this.#start < length) await this.#fill(length);
    return this.#buffer.subarray(this.#start, this.#start + length);
  }

  /**
   * Returns the bytes read past the last frame (pipelined data the relay
   * must forward first) and forgets them.
   *
   * @returns A copy of the unread bytes; empty when there are none.
   */
  rest(): Uint8Array {
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
      const n = await this.#source.read(
        this.#buffer.subarray(this.#end, this.#greedy ? _CAPACITY : length),
      );
      if (n === 0) {
        // A well-behaved source blocks until data arrives; a zero would spin.
        throw new RangeError("Byte source returned 0 bytes for a read");
      }
      if (n === null) {
        throw new UnexpectedEofError(
          `Stream ended ${length - this.#end} bytes before the frame's end`,
        );
      }
      this.#end += n;
    }
  }
}

function _checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > _CAPACITY) {
    throw new RangeError(`Frame length must be 1-${_CAPACITY}, got ${length}`);
  }
}
