/**
 * Entry point on Bun: `bun main_bun.ts [options]`, and the entry of the
 * single executable (`deno task build`). See `--help`.
 *
 * @module
 */

import process from "node:process";
import { main } from "./src/cli/main.ts";
import { bunProcess } from "./src/runtime/bun/process.ts";
import { bunRuntime } from "./src/runtime/bun/runtime.ts";

process.exit(await main(process.argv.slice(2), bunRuntime, bunProcess));
