/**
 * `deno task build`: the single executable, `dist/socks5-deno`, built with
 * `bun build --compile` from the Bun entry (`main_bun.ts`) and the worker
 * module `--workers` starts, using the pinned Bun (installed from npm when
 * missing). It runs without Deno or Bun installed.
 *
 * Options: `--target bun-linux-arm64` (or any target `bun build` takes; a
 * target other than this machine's makes Bun download that runtime, which
 * needs its download host), `--outfile PATH`.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureBun } from "./bun.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The modules the executable embeds: the entry, then the worker. */
export const ENTRY_POINTS: readonly string[] = [
  "main_bun.ts",
  "src/runtime/bun/worker.ts",
];

/**
 * Builds the executable.
 *
 * @param options Target and output path.
 * @returns The output path.
 * @throws {Error} When Bun cannot be installed or the build fails.
 */
export async function build(
  options: { target?: string; outfile?: string } = {},
): Promise<string> {
  const bun = await ensureBun();
  // Bun resolves the npm imports (yaml, zod, hash-wasm) from node_modules,
  // which Deno fills from deno.lock: the same pinned versions on both.
  const install = await new Deno.Command(Deno.execPath(), {
    args: ["install"],
    cwd: ROOT,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!install.success) throw new Error("deno install failed");
  const outfile = options.outfile ?? `${ROOT}dist/socks5-deno`;
  // Built beside the old one and renamed over it: a running copy (a soak,
  // a server) keeps its file, and no one sees a half-written executable.
  const partial = `${outfile}.partial-${Deno.pid}`;
  const args = [
    "build",
    "--compile",
    "--minify-syntax",
    // The modules imported when first needed (the config file's YAML parser
    // and schema, password hashing) become chunks of their own instead of
    // part of one file read at start: 1.5 MiB less resident memory.
    "--splitting",
    ...(options.target ? [`--target=${options.target}`] : []),
    "--outfile",
    partial,
    ...ENTRY_POINTS,
  ];
  const result = await new Deno.Command(bun, {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!result.success) {
    await Deno.remove(partial).catch(() => {});
    throw new Error(`bun ${args.join(" ")} failed with code ${result.code}`);
  }
  await Deno.rename(partial, outfile);
  return outfile;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      target: { type: "string" },
      outfile: { type: "string" },
    },
  });
  try {
    console.error(`built ${await build(values)}`);
  } catch (error) {
    console.error(`build: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
