/**
 * Running `load.ts` once as a child process and collecting its result.
 *
 * @module
 */

import type { LoadResult } from "./load_result.ts";

/**
 * Runs the load generator with `args` and parses its JSON line.
 *
 * The child gets `--allow-all` because Deno only lets a fully permitted
 * process read `/proc`, where the proxy's CPU and memory figures come from;
 * it talks to 127.0.0.1 only (load.ts refuses any other address).
 *
 * @throws {Error} if it fails, prints no result, or runs past `timeoutMs`.
 */
export async function runLoad(
  script: string,
  args: string[],
  timeoutMs: number,
): Promise<LoadResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited in the meantime
    }
  }, timeoutMs);
  try {
    const { code, stdout, stderr } = await child.output();
    const out = new TextDecoder().decode(stdout).trim();
    if (code !== 0 || out === "") {
      const err = new TextDecoder().decode(stderr).trim().split("\n").slice(-3)
        .join(" | ");
      throw new Error(err || `load generator exited with status ${code}`);
    }
    return JSON.parse(out.split("\n").at(-1) ?? "") as LoadResult;
  } finally {
    clearTimeout(timer);
  }
}
