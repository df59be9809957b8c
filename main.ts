/**
 * Entry point on Deno: `deno run --allow-net main.ts [options]`. See `--help`.
 *
 * @module
 */

import { main } from "./src/cli/main.ts";
import { denoProcess } from "./src/runtime/deno/process.ts";
import { denoRuntime } from "./src/runtime/deno/runtime.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args, denoRuntime, denoProcess));
}
