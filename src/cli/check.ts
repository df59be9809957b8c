/**
 * `socks5-deno check --config FILE [flags]`: reads the config file (and the
 * users file it names) exactly as serving would, prints every problem with
 * its line, and exits 1 on any; 0 and a one-line summary otherwise.
 *
 * @module
 */

import { parseCli } from "../config/cli.ts";
import { UsageError } from "../config/values.ts";
import { checkServeOptions } from "../core/server.ts";
import type { ProcessHost } from "../runtime/runtime.ts";

/**
 * Runs `check`.
 *
 * @param args The arguments after `check`.
 * @param host The process.
 * @returns 0 when valid, 1 when not, 2 without `--config`.
 */
export async function runCheck(
  args: readonly string[],
  host: ProcessHost,
): Promise<number> {
  if (
    !args.includes("--config") && !args.some((a) => a.startsWith("--config="))
  ) {
    host.writeStderr("socks5-deno check: expected --config FILE\n");
    return 2;
  }
  try {
    const config = await parseCli(args, (path) => host.readTextFile(path));
    try {
      checkServeOptions(config.serve);
    } catch (error) {
      host.writeStderr(`socks5-deno check: ${(error as Error).message}\n`);
      return 1;
    }
    for (const warning of config.warnings) {
      host.writeStderr(`socks5-deno check: warning: ${warning}\n`);
    }
    const serve = config.serve;
    const users = serve.users instanceof Map ? serve.users.size : 0;
    host.writeStdout(
      `${config.configPath}: OK (${
        (serve.rules ?? []).length
      } rules, ${users} users)\n`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    for (const line of error.message.split("\n")) {
      host.writeStderr(`socks5-deno check: ${line}\n`);
    }
    return 1;
  }
}
