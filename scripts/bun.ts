/**
 * The pinned Bun: where it is, and installing it from npm when it is not.
 * Used by `deno task build`, by the test task and by `.ci/run`, so the
 * version lives in one place.
 *
 * `deno run --allow-read --allow-write --allow-run --allow-env scripts/bun.ts`
 * installs it if needed and prints its path.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The Bun release the project builds and tests with. */
export const BUN_VERSION = "1.4.5";

/** The npm package that ships Bun for this machine, e.g. `@oven/bun-linux-x64`. */
export function bunPackage(): string {
  const os = Deno.build.os === "darwin" ? "darwin" : Deno.build.os;
  const arch = Deno.build.arch === "aarch64" ? "aarch64" : "x64";
  return `@oven/bun-${os}-${arch}`;
}

/** Where `installBun()` puts Bun: inside the repository, ignored by git. */
export const LOCAL_PREFIX: string = fileURLToPath(
  new URL("../.tools/bun/", import.meta.url),
);

function _version(path: string): string | null {
  try {
    const out = new Deno.Command(path, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

function _candidates(): string[] {
  const inPackage = (root: string) => `${root}/${bunPackage()}/bin/bun`;
  const out: string[] = [];
  const env = Deno.env.get("BUN");
  if (env) out.push(env);
  out.push(inPackage(`${LOCAL_PREFIX}node_modules`));
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir) out.push(`${dir}/bun`);
  }
  // `npm install -g` of the platform package installs no `bin` link.
  out.push(inPackage("/usr/lib/node_modules"));
  out.push(inPackage("/usr/local/lib/node_modules"));
  return out;
}

/**
 * Finds the pinned Bun without installing anything.
 *
 * @returns Its path, or `null` when no Bun of {@linkcode BUN_VERSION} is
 * found (`$BUN`, the local install, `PATH`, npm's global folders).
 */
export function findBun(): string | null {
  for (const path of _candidates()) {
    if (_version(path) === BUN_VERSION) return path;
  }
  return null;
}

/**
 * Finds the pinned Bun, installing it from npm into `.tools/bun/` when it is
 * missing.
 *
 * @returns Its path.
 * @throws {Error} When npm cannot install it.
 */
export async function ensureBun(): Promise<string> {
  const found = findBun();
  if (found) return found;
  const spec = `${bunPackage()}@${BUN_VERSION}`;
  console.error(`Installing Bun ${BUN_VERSION} from npm (${spec})`);
  const npm = await new Deno.Command("npm", {
    args: [
      "install",
      "--prefix",
      LOCAL_PREFIX,
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      spec,
    ],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  const path = findBun();
  if (!npm.success || path === null) {
    throw new Error(`npm could not install ${spec}`);
  }
  return path;
}

if (import.meta.main) {
  try {
    console.log(await ensureBun());
  } catch (error) {
    console.error(`bun: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
