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

import { fileURLToPath } from "node:url";
import { findBun } from "../../scripts/bun.ts";

/** The repository root, found from this file so the cwd does not matter. */
export const REPO_ROOT: string = fileURLToPath(
  new URL("../../", import.meta.url),
);

/** Where `deno task build` writes the executable. */
export const EXECUTABLE: string = `${REPO_ROOT}dist/socks5-deno`;

/** One way to start the server. */
export interface ServerCommand {
  /** `deno`, `bun` or `exe`, for test names. */
  readonly name: "deno" | "bun" | "exe";
  /** The program to run. */
  readonly program: string;
  /** Arguments before the server's own flags. */
  readonly prefix: readonly string[];
  /** Why it cannot run here, or `null`. */
  readonly missing: string | null;
}

function _isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function _all(): ServerCommand[] {
  const bun = findBun();
  return [
    {
      name: "deno",
      program: Deno.execPath(),
      prefix: ["run", "--allow-net", "--allow-read", `${REPO_ROOT}main.ts`],
      missing: null,
    },
    {
      name: "bun",
      program: bun ?? "bun",
      prefix: [`${REPO_ROOT}main_bun.ts`],
      missing: bun === null
        ? "the pinned Bun is not installed (deno task build installs it)"
        : null,
    },
    {
      name: "exe",
      program: EXECUTABLE,
      prefix: [],
      missing: _isFile(EXECUTABLE)
        ? null
        : `${EXECUTABLE} is not built (deno task build)`,
    },
  ];
}

const _chosen = Deno.env.get("SOCKS5_SERVERS")?.split(",").map((s) => s.trim());

/** The server commands this run exercises. */
export const SERVER_COMMANDS: readonly ServerCommand[] = _all().filter((c) =>
  _chosen === undefined || _chosen.includes(c.name)
);

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
export const DENO_SERVER: ServerCommand = _all()[0]!;

/**
 * The command line that starts `server` with `args`.
 *
 * @param server How to start it.
 * @param args The server's own flags.
 * @returns Program and arguments.
 */
export function commandLine(
  server: ServerCommand,
  args: readonly string[],
): { program: string; args: string[] } {
  return { program: server.program, args: [...server.prefix, ...args] };
}
