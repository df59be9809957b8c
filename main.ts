/**
 * Entry point: `deno run --allow-net main.ts [options]`. See `--help`.
 *
 * @module
 */

import { main } from "./src/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
