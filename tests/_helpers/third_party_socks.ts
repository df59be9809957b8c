/**
 * Other SOCKS servers on loopback, for upstream-chaining and probe tests:
 * microsocks (SOCKS5 CONNECT only) and Dante's danted (SOCKS4/4a/5 with
 * BIND and UDP), each on a free port picked here (neither reports the port
 * it got when given port 0). Under `CI=true` a missing server fails the
 * test; elsewhere the test is ignored with the reason.
 *
 * @module
 */

import { freePort } from "../../scripts/bench/free_port.ts";
import { findExecutable } from "../../scripts/bench/servers.ts";
import { REQUIRE_ALL } from "./server_commands.ts";
import { eventually } from "./wait.ts";

/** A third-party server process on 127.0.0.1. */
export interface ThirdPartySocks extends AsyncDisposable {
  /** Its port on 127.0.0.1. */
  port: number;
  /** What it wrote to stderr so far (for failure messages). */
  log(): string;
}

/** The executables, or `null` when not installed. */
export const MICROSOCKS: string | null = findExecutable("microsocks") ?? null;
/** Dante's server. */
export const DANTED: string | null =
  findExecutable("danted", ["/usr/sbin", "/usr/local/sbin"]) ?? null;

/**
 * Whether a test needing `executable` should be ignored (not installed and
 * not under CI, where it must fail instead).
 *
 * @param executable The path, or null.
 * @returns True to ignore.
 */
export function missing(executable: string | null): boolean {
  return executable === null && !REQUIRE_ALL;
}

/**
 * Starts microsocks on 127.0.0.1.
 *
 * @param auth Credentials it then requires (`-u`/`-P`).
 * @returns The running server.
 */
export function startMicrosocks(
  auth?: { username: string; password: string },
): Promise<ThirdPartySocks> {
  if (MICROSOCKS === null) throw new Error("microsocks is not installed");
  const port = freePort();
  const args = ["-i", "127.0.0.1", "-p", String(port)];
  if (auth) args.push("-u", auth.username, "-P", auth.password);
  return _start(MICROSOCKS, args, port, null);
}

/**
 * Starts danted on 127.0.0.1 with a temporary configuration that passes
 * CONNECT, BIND and UDP to loopback, SOCKS4 and SOCKS5, no authentication.
 *
 * @returns The running server.
 */
export async function startDante(): Promise<ThirdPartySocks> {
  if (DANTED === null) throw new Error("danted is not installed");
  const port = freePort();
  const root = Deno.uid() === 0;
  const config = [
    "logoutput: stderr",
    "errorlog: stderr",
    `internal: 127.0.0.1 port = ${port}`,
    "external: 127.0.0.1",
    "clientmethod: none",
    "socksmethod: none",
    // Dante insists on dropping privileges when started as root.
    ...(root ? ["user.privileged: root", "user.unprivileged: nobody"] : []),
    "client pass {",
    "  from: 127.0.0.0/8 to: 0.0.0.0/0",
    "  log: error",
    "}",
    "socks pass {",
    "  from: 127.0.0.0/8 to: 127.0.0.0/8",
    "  command: connect bind bindreply udpassociate udpreply",
    "  protocol: tcp udp",
    "  log: error",
    "}",
    "",
  ].join("\n");
  const file = await Deno.makeTempFile({ prefix: "danted-", suffix: ".conf" });
  await Deno.writeTextFile(file, config);
  return _start(DANTED, ["-f", file, "-p", "/dev/null"], port, file);
}

async function _start(
  program: string,
  args: string[],
  port: number,
  configFile: string | null,
): Promise<ThirdPartySocks> {
  const child = new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stderr) text += decoder.decode(chunk);
  })();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    await child.status;
    await reading;
    if (configFile !== null) await Deno.remove(configFile).catch(() => {});
  };
  // Ready once it accepts a connection; bounded in polls and time.
  try {
    await eventually(
      async () => {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return true;
      },
      () => `${program} accepting on port ${port}\n${text}`,
      { every: 20 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    log: () => text,
    [Symbol.asyncDispose]: stop,
  };
}
