/**
 * Starts the admin listener on a runtime's HTTP server, refusing a
 * non-loopback address unless a token protects it.
 *
 * @module
 */

import { isLoopback } from "../protocol/ip.ts";
import type {
  HttpServeOptions,
  HttpServerHandle,
  Runtime,
} from "../runtime/runtime.ts";
import {
  type AdminHandler,
  type AdminHandlerOptions,
  createAdminHandler,
} from "./admin_handler.ts";

/** A running admin listener. */
export interface AdminServer extends AsyncDisposable {
  /** The bound address. */
  readonly addr: HttpServerHandle["addr"];
  /** The handler it serves. */
  readonly handler: AdminHandler;
  /** Stops listening and sampling. */
  shutdown(): Promise<void>;
}

/**
 * Serves the admin handler.
 *
 * @param runtime The runtime's HTTP server.
 * @param listen Where to listen.
 * @param options The handler's options.
 * @returns The running listener.
 * @throws {TypeError} For a non-loopback address without a token.
 */
export async function serveAdmin(
  runtime: Pick<Runtime, "serveHttp">,
  listen: HttpServeOptions,
  options: AdminHandlerOptions,
): Promise<AdminServer> {
  if (!isLoopback(listen.hostname) && !options.token) {
    throw new TypeError(
      `Refusing to serve the admin listener on ${listen.hostname} without a token: ` +
        "it shows who is connected where. Use a loopback address, or set a token (--admin-token-file).",
    );
  }
  const handler = createAdminHandler(options);
  let http: HttpServerHandle;
  try {
    http = await runtime.serveHttp(
      listen,
      (request) => handler.handle(request),
    );
  } catch (error) {
    handler.close();
    throw error;
  }
  const shutdown = async () => {
    handler.close();
    await http.shutdown();
  };
  return {
    addr: http.addr,
    handler,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
