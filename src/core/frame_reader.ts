/**
 * Exact-length reads of handshake frames straight from a connection.
 *
 * @module
 */

import { ProtocolError, UnexpectedEofError } from "../protocol/errors.ts";
import type { ExactReader, LineReader } from "../protocol/reader.ts";

/** Large enough for the largest handshake frame (RFC 1929: 513 bytes). */
const _CAPACITY = 1024;
/**
 * The longest line {@linkcode FrameReader.readLine} assembles; the buffer
 * grows past 1 KiB only while such a line is read (HTTP headers).
 */
const _MAX_LINE = 64 * 1024;

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
export class FrameReader implements ExactReader, LineReader {
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
  readExact(length: number): Promise<Uint8Array> {
    return this.#frame(length, true);
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
  peek(length: number): Promise<Uint8Array> {
    return this.#frame(length, false);
  }

  /**
   * Reads one line: the bytes up to and including the next LF. The buffer
   * grows beyond 1 KiB only when a line needs it.
   *
   * @param maxLength The longest line accepted, LF included (at most 64 KiB).
   * @returns The line; valid until the next call.
   * @throws {ProtocolError} When no LF comes within `maxLength` bytes.
   * @throws {UnexpectedEofError} When the stream ends first.
   */
  async readLine(maxLength: number): Promise<Uint8Array> {
    if (
      !Number.isInteger(maxLength) || maxLength < 1 || maxLength > _MAX_LINE
    ) {
      throw new RangeError(
        `Line length must be 1-${_MAX_LINE}, got ${maxLength}`,
      );
    }
    let scanned = 0;
    for (;;) {
      const buffered = this.#end - this.#start;
      const found = this.#buffer.subarray(this.#start + scanned, this.#end)
        .indexOf(0x0a);
      if (found >= 0 && scanned + found < maxLength) {
        const length = scanned + found + 1;
        const out = this.#buffer.subarray(this.#start, this.#start + length);
        this.#start += length;
        return out;
      }
      if (found >= 0 || buffered >= maxLength) {
        throw new ProtocolError(`Line longer than ${maxLength} bytes`);
      }
      scanned = buffered;
      await this.#fill(buffered + 1);
    }
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

  /**
   * The next `length` bytes, consumed or not. Not an async function: most
   * frames of a handshake are already buffered (one read fills the
   * buffer), and those skip the async frame.
   */
  #frame(length: number, consume: boolean): Promise<Uint8Array> {
    const invalid = _lengthError(length);
    if (invalid) return Promise.reject(invalid);
    if (this.#end - this.#start >= length) {
      return Promise.resolve(this.#slice(length, consume));
    }
    return this.#fill(length).then(() => this.#slice(length, consume));
  }

  #slice(length: number, consume: boolean): Uint8Array {
    const out = this.#buffer.subarray(this.#start, this.#start + length);
    if (consume) this.#start += length;
    return out;
  }

  async #fill(length: number): Promise<void> {
    if (length > this.#buffer.length) {
      // Only readLine asks for more than the capacity; keep what is buffered.
      const grown = new Uint8Array(Math.min(_MAX_LINE, length * 2));
      grown.set(this.#buffer.subarray(this.#start, this.#end));
      this.#end -= this.#start;
      this.#start = 0;
      this.#buffer = grown;
    }
    // Move what is buffered to the front so the free space is contiguous.
    this.#buffer.copyWithin(0, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
    while (this.#end < length) {
      const n = await this.#source.read(
        this.#buffer.subarray(
          this.#end,
          this.#greedy ? this.#buffer.length : length,
        ),
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

function _lengthError(length: number): RangeError | null {
  if (Number.isInteger(length) && length >= 1 && length <= _CAPACITY) {
    return null;
  }
  return new RangeError(`Frame length must be 1-${_CAPACITY}, got ${length}`);
}
