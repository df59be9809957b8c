/**
 * The Deno runtime: its network, the system resolver, `Deno.serve` for HTTP
 * and the worker entry for `--workers`.
 *
 * @module
 */

import { SystemResolver } from "../../outbound/system_resolver.ts";
import type { HttpServerHandle, Runtime } from "../runtime.ts";
import { loadDenoGssapi } from "./gssapi.ts";
import { denoNetwork } from "./network.ts";

/** Deno, as the core sees it. */
export const denoRuntime: Runtime = {
  name: "deno",
  version: Deno.version.deno,
  network: denoNetwork,
  resolver: new SystemResolver(),
  workerUrl: new URL("./worker.ts", import.meta.url),
  loadGssapi: loadDenoGssapi,
  serveHttp(options, handler): Promise<HttpServerHandle> {
    const server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      onListen: () => {},
    }, handler);
    return Promise.resolve({
      addr: server.addr,
      shutdown: () => server.shutdown(),
    });
  },
};
