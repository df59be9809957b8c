/**
 * The users file: one `name:password` per line.
 *
 * @module
 */

/**
 * Parses a users file. Blank lines and lines starting with `#` are skipped;
 * everything after the first `:` is the password (so passwords may contain
 * `:`); surrounding whitespace of the name is trimmed, the password is kept
 * as written (a trailing `\r` from Windows line ends is removed).
 *
 * @example
 * ```ts
 * import { parseUsersFile } from "./users_file.ts";
 * parseUsersFile("# team\nalice:s3cret\nbob:pa:ss\n");
 * // Map { "alice" => "s3cret", "bob" => "pa:ss" }
 * ```
 *
 * @param text The file's content.
 * @returns Username to password.
 * @throws {SyntaxError} Naming the line when a line has no `:`, an empty name
 * or password, or repeats a name. The password itself is never quoted.
 */
export function parseUsersFile(text: string): Map<string, string> {
  const users = new Map<string, string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon).trim();
    const password = colon < 0 ? "" : line.slice(colon + 1);
    if (colon < 0 || name === "" || password === "") {
      throw new SyntaxError(
        `Line ${i + 1} of the users file is not "name:password"`,
      );
    }
    if (users.has(name)) {
      throw new SyntaxError(
        `Line ${i + 1} of the users file repeats user ${JSON.stringify(name)}`,
      );
    }
    users.set(name, password);
  }
  return users;
}
