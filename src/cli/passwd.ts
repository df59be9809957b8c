/**
 * `socks5-deno passwd NAME [--scheme scrypt|bcrypt|argon2id]`: reads a
 * password (at a terminal without echo, else the first line of standard
 * input) and prints the users-file line `NAME:HASH`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  HASH_SCHEMES,
  hashPassword,
  type HashScheme,
} from "../auth/password_hash.ts";
import { parseChoice, UsageError } from "../config/values.ts";
import type { ProcessHost } from "../runtime/runtime.ts";

/**
 * Runs `passwd`.
 *
 * @param args The arguments after `passwd`.
 * @param host The process.
 * @returns 0 after printing the line, 2 for bad usage or an empty password.
 */
export async function runPasswd(
  args: readonly string[],
  host: ProcessHost,
): Promise<number> {
  let name: string;
  let scheme: HashScheme;
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { scheme: { type: "string", default: "scrypt" } },
    });
    if (positionals.length !== 1) {
      throw new UsageError("expected one NAME: passwd NAME [--scheme S]");
    }
    name = positionals[0]!;
    if (name.includes(":") || name.trim() !== name || name === "") {
      throw new UsageError(
        `a name may not contain ":" or surrounding spaces, got ${
          JSON.stringify(name)
        }`,
      );
    }
    scheme = parseChoice(values.scheme!, "--scheme", HASH_SCHEMES);
  } catch (error) {
    host.writeStderr(
      `socks5-deno passwd: ${
        error instanceof Error ? error.message.split("\n")[0] : error
      }\n`,
    );
    return 2;
  }
  if (!host.readPassword) {
    host.writeStderr("socks5-deno passwd: cannot read standard input here\n");
    return 2;
  }
  const password = await host.readPassword(`Password for ${name}: `);
  const bytes = new TextEncoder().encode(password).length;
  if (bytes < 1 || bytes > 255) {
    host.writeStderr(
      "socks5-deno passwd: the password must be 1-255 bytes (RFC 1929)\n",
    );
    return 2;
  }
  host.writeStdout(`${name}:${await hashPassword(password, scheme)}\n`);
  return 0;
}
