/**
 * The Bun server with a forced full garbage collection on SIGUSR2, for the
 * diagnostic runs of `deno task burst-memory --force-gc`. Never used in
 * production: the shipped entries are `main.ts` and `main_bun.ts`.
 *
 * @module
 */

import process from "node:process";
import { main } from "../../src/cli/main.ts";
import { bunProcess } from "../../src/runtime/bun/process.ts";
import { bunRuntime } from "../../src/runtime/bun/runtime.ts";

// Typed here rather than through Bun's types: this file is checked by Deno.
const bun = (globalThis as unknown as { Bun: { gc(force: boolean): void } })
  .Bun;
process.on("SIGUSR2", () => bun.gc(true));
process.exit(await main(process.argv.slice(2), bunRuntime, bunProcess));
