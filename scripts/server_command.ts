/**
 * The three ways to start the server: Deno running the source, Bun running
 * the source, and the single executable from `deno task build`. Shared by
 * the soak, the benchmark and the process-level tests.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { findBun } from "./bun.ts";

/** The repository root. */
export const REPO_ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** Where `deno task build` writes the executable. */
export const EXECUTABLE: string = `${REPO_ROOT}dist/socks5-deno`;

/** The names of the server commands. */
export const SERVER_NAMES = ["deno", "bun", "exe"] as const;

/** One way to start the server. */
export interface ServerCommand {
  /** `deno`, `bun` or `exe`. */
  readonly name: (typeof SERVER_NAMES)[number];
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

/**
 * Every server command, with what is missing for each.
 *
 * @returns Deno, Bun and the executable, in that order.
 */
export function serverCommands(): ServerCommand[] {
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
