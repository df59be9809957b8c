/**
 * The Deno server with a forced full garbage collection on SIGUSR2, for the
 * diagnostic runs of `deno task burst-memory --force-gc`. Needs
 * `--v8-flags=--expose-gc`. Never used in production: the shipped entries
 * are `main.ts` and `main_bun.ts`.
 *
 * @module
 */

import { main } from "../../src/cli/main.ts";
import { denoProcess } from "../../src/runtime/deno/process.ts";
import { denoRuntime } from "../../src/runtime/deno/runtime.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("collectable_deno.ts needs --v8-flags=--expose-gc");
  Deno.exit(2);
}
Deno.addSignalListener("SIGUSR2", () => gc());
Deno.exit(await main(Deno.args, denoRuntime, denoProcess));
