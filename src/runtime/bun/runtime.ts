/**
 * The Bun runtime: its network, the system resolver, `Bun.serve` for HTTP
 * and the worker entry for `--workers`.
 *
 * @module
 */

/// <reference path="./bun_api.d.ts" />

import { SystemResolver } from "../../outbound/system_resolver.ts";
import type { HttpServerHandle, Runtime } from "../runtime.ts";
import { loadBunGssapi } from "./gssapi.ts";
import { bunNetwork } from "./network.ts";
import { isCompiled } from "./process.ts";

/** Bun, as the core sees it. */
export const bunRuntime: Runtime = {
  name: "bun",
  version: Bun.version,
  network: bunNetwork,
  resolver: new SystemResolver(),
  // `deno task build` embeds the worker module as a second entry point:
  // the executable finds it in its own file system, under its path from the
  // repository root (bundled code has the main entry's import.meta.url).
  workerUrl: isCompiled
    ? new URL("./src/runtime/bun/worker.ts", `file://${Bun.main}`)
    : new URL("./worker.ts", import.meta.url),
  loadGssapi: loadBunGssapi,
  serveHttp(options, handler): Promise<HttpServerHandle> {
    const server = Bun.serve({
      hostname: options.hostname,
      port: options.port,
      fetch: handler,
    });
    return Promise.resolve({
      addr: { hostname: server.hostname, port: server.port },
      shutdown: async () => {
        await server.stop(true);
      },
    });
  },
};
