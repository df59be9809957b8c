/**
 * The entry point of one `--workers` worker on Deno.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { runWorker } from "../../cluster/worker_main.ts";
import { denoRuntime } from "./runtime.ts";

runWorker(denoRuntime, self);
