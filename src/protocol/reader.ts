/**
 * The one capability the frame decoders need from a byte stream.
 *
 * @module
 */

/**
 * A source of exact-length reads. Implemented over a connection by
 * `src/core/frame_reader.ts`, and over fixed bytes in tests. Never assumes
 * one network read is one frame.
 */
export interface ExactReader {
  /**
   * Reads exactly `length` bytes.
   *
   * @param length How many bytes, at least 1.
   * @returns The bytes; valid until the next call.
   * @throws {UnexpectedEofError} When the stream ends first.
   */
  readExact(length: number): Promise<Uint8Array>;
}

/**
 * A source of lines, for the text protocols (HTTP, PROXY protocol v1).
 * Implemented by `src/core/frame_reader.ts`.
 */
export interface LineReader {
  /**
   * Reads the bytes up to and including the next LF.
   *
   * @param maxLength The longest line accepted, LF included.
   * @returns The line; valid until the next call.
   * @throws {ProtocolError} When the line is longer.
   * @throws {UnexpectedEofError} When the stream ends first.
   */
  readLine(maxLength: number): Promise<Uint8Array>;
}
