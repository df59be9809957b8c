/**
 * Reads one line (a password) from standard input, for `passwd`: from a
 * terminal in raw mode (so nothing is echoed) or from a pipe.
 *
 * @module
 */

/**
 * Collects bytes up to the first line end (or the end of input).
 *
 * @param chunks Standard input.
 * @param terminal Whether it is a raw-mode terminal: then Ctrl-C and
 * Ctrl-D abort, and backspace removes a character.
 * @returns The line, without its end.
 * @throws {Error} On Ctrl-C or Ctrl-D at a terminal.
 */
export async function readFirstLine(
  chunks: AsyncIterable<Uint8Array>,
  terminal: boolean,
): Promise<string> {
  const bytes: number[] = [];
  outer: for await (const chunk of chunks) {
    for (const byte of chunk) {
      if (byte === 0x0a || byte === 0x0d) break outer;
      if (terminal && (byte === 0x03 || byte === 0x04)) {
        throw new Error("Cancelled");
      }
      if (terminal && (byte === 0x7f || byte === 0x08)) bytes.pop();
      else bytes.push(byte);
    }
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}
