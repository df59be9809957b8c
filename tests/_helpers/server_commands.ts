/**
 * The three ways the server is started, so every process-level suite runs
 * against each: Deno running the source, Bun running the source, and the
 * single executable built by `deno task build`.
 *
 * `SOCKS5_SERVERS=deno,bun` (any subset) limits the runs. A server whose
 * runtime or executable is missing is skipped with the reason, except under
 * `CI=true`, where it fails.
 *
 * @module
 */

import {
  commandLine,
  EXECUTABLE,
  REPO_ROOT,
  type ServerCommand,
  serverCommands,
} from "../../scripts/server_command.ts";

export { commandLine, EXECUTABLE, REPO_ROOT, type ServerCommand };

const _chosen = Deno.env.get("SOCKS5_SERVERS")?.split(",").map((s) => s.trim());

/** The server commands this run exercises. */
export const SERVER_COMMANDS: readonly ServerCommand[] = serverCommands()
  .filter((c) => _chosen === undefined || _chosen.includes(c.name));

/** Whether a missing server must fail the run instead of skipping. */
export const REQUIRE_ALL: boolean = Deno.env.get("CI") === "true";

/** A `Deno.test` definition whose `fn` also gets the server command. */
export interface ServerTestDefinition extends Omit<Deno.TestDefinition, "fn"> {
  /** The test, given the command to start the server with. */
  fn(t: Deno.TestContext, server: ServerCommand): Promise<void>;
}

/**
 * Registers one test per server command, named `NAME [deno]`, `[bun]`,
 * `[exe]`. A missing command is ignored with its reason in the name, or
 * fails under CI.
 *
 * @param definition The test, as for `Deno.test`.
 */
export function serverTest(definition: ServerTestDefinition): void {
  for (const server of SERVER_COMMANDS) {
    const skip = server.missing !== null && !REQUIRE_ALL;
    Deno.test({
      ...definition,
      name: `${definition.name} [${server.name}]${
        skip ? ` (skipped: ${server.missing})` : ""
      }`,
      ignore: definition.ignore || skip,
      async fn(t) {
        if (server.missing !== null) throw new Error(server.missing);
        await definition.fn(t, server);
      },
    });
  }
}

/** The Deno command: the default when a test names none. */
export const DENO_SERVER: ServerCommand = serverCommands()[0]!;

/**
 * The same command with more Deno permission flags (`--allow-write=DIR`);
 * Bun and the executable have no permissions and are returned as they are.
 *
 * @param server The command.
 * @param flags Flags to add after `deno run`.
 * @returns The command to start.
 */
export function withDenoFlags(
  server: ServerCommand,
  ...flags: string[]
): ServerCommand {
  if (server.name !== "deno") return server;
  const [run, ...rest] = server.prefix;
  return { ...server, prefix: [run!, ...flags, ...rest] };
}

/** How a server command that ran to its end exited, and what it printed. */
export interface CommandOutput {
  /** The exit code. */
  code: number;
  /** Standard output, decoded. */
  stdout: string;
  /** Standard error, decoded. */
  stderr: string;
}

/**
 * Runs the server command with `args` until it exits: a one-shot
 * subcommand (`probe`, `--help`) or a start that must be refused. No
 * input, no colours, in the repository root.
 *
 * @param server The command.
 * @param args Its arguments.
 * @returns The exit code and the decoded output.
 */
export function runToExit(
  server: ServerCommand,
  args: string[],
): Promise<CommandOutput> {
  const { program, args: full } = commandLine(server, args);
  return runInRepo(program, full);
}

/**
 * Runs any program in the repository root until it exits, with no input and
 * no colours (`deno info`, `deno publish --dry-run`, a server command).
 *
 * @param program The executable.
 * @param args Its arguments.
 * @returns The exit code and the decoded output.
 */
export async function runInRepo(
  program: string,
  args: string[],
): Promise<CommandOutput> {
  const output = await new Deno.Command(program, {
    args,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
