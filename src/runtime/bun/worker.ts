/**
 * The entry point of one `--workers` worker on Bun.
 *
 * @module
 */

import { runWorker, type WorkerPort } from "../../cluster/worker_main.ts";
import { bunRuntime } from "./runtime.ts";

runWorker(bunRuntime, globalThis as unknown as WorkerPort);
