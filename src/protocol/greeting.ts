/**
 * The version identifier/method selection message and its answer
 * (RFC 1928 §3).
 *
 * ```
 * client greeting                     server choice
 * +----+----------+----------+        +----+--------+
 * |VER | NMETHODS | METHODS  |        |VER | METHOD |
 * +----+----------+----------+        +----+--------+
 * | 1  |    1     | 1 to 255 |        | 1  |   1    |
 * +----+----------+----------+        +----+--------+
 * ```
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { SOCKS_VERSION } from "./constants.ts";
import type { ExactReader } from "./reader.ts";

/**
 * Raised when the first byte is not X'05'. No reply is defined for another
 * protocol version, so the connection is closed without one.
 */
export class VersionError extends ProtocolError {
  /** The version byte the peer sent. */
  readonly version: number;

  /**
   * Creates the instance.
   *

   * @param version The version byte the peer sent.

   */
  constructor(version: number) {
    super(
      `Unsupported SOCKS version 0x${version.toString(16).padStart(2, "0")}`,
    );
    this.name = "VersionError";
    this.version = version;
  }
}

/**
 * Reads a client greeting: VER, NMETHODS, METHODS.
 *
 * @param reader An exact reader positioned at the start of the connection.
 * @returns The offered method bytes (may be empty when NMETHODS is 0; the
 * caller answers X'FF' then).
 * @throws {VersionError} When VER is not X'05'.
 */
export async function readGreeting(reader: ExactReader): Promise<Uint8Array> {
  const head = await reader.readExact(2);
  if (head[0] !== SOCKS_VERSION) throw new VersionError(head[0]!);
  const count = head[1]!;
  if (count === 0) return new Uint8Array(0);
  return (await reader.readExact(count)).slice();
}

/**
 * Encodes a client greeting.
 *
 * @param methods The method bytes to offer, 1 to 255 of them.
 * @returns `05 NMETHODS METHODS…`.
 * @throws {RangeError} When the list is empty or too long.
 */
export function encodeGreeting(methods: readonly number[]): Uint8Array {
  if (methods.length < 1 || methods.length > 255) {
    throw new RangeError(
      `A greeting offers 1-255 methods, got ${methods.length}`,
    );
  }
  return Uint8Array.of(SOCKS_VERSION, methods.length, ...methods);
}

/**
 * Encodes the server's method choice.
 *
 * @param method The chosen method, or X'FF' for none acceptable.
 * @returns `05 METHOD`.
 */
export function encodeMethodChoice(method: number): Uint8Array {
  return Uint8Array.of(SOCKS_VERSION, method);
}

/**
 * Reads the server's method choice (client side).
 *
 * @param reader An exact reader.
 * @returns The chosen method byte.
 * @throws {VersionError} When VER is not X'05'.
 */
export async function readMethodChoice(reader: ExactReader): Promise<number> {
  const bytes = await reader.readExact(2);
  if (bytes[0] !== SOCKS_VERSION) throw new VersionError(bytes[0]!);
  return bytes[1]!;
}
