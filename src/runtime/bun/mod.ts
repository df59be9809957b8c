/**
 * socks5-deno on Bun: the same API as `src/mod.ts`, on Bun's sockets.
 *
 * ```ts ignore
 * import { serve } from "./src/runtime/bun/mod.ts";
 * await using server = await serve({ listen: { hostname: "127.0.0.1", port: 0 } });
 * ```
 *
 * @module
 */

import { type Api, createApi } from "../../library.ts";
import { bunRuntime } from "./runtime.ts";

const _api = createApi(bunRuntime);

/** Starts a SOCKS5 server on Bun's sockets. */
export const serve: Api["serve"] = _api.serve;
/** Opens a TCP connection through a SOCKS5 proxy (CONNECT). */
export const connect: Api["connect"] = _api.connect;
/** Asks a SOCKS5 proxy to accept one incoming connection (BIND). */
export const bind: Api["bind"] = _api.bind;
/** Opens a UDP association through a SOCKS5 proxy. */
export const udpAssociate: Api["udpAssociate"] = _api.udpAssociate;
/** Opens the system GSS-API library by FFI, for the client's `gssapi` option. */
export const loadGssapi: Api["loadGssapi"] = _api.loadGssapi;
/** Bun, as the core sees it. */
export { bunRuntime };

export * from "../../library.ts";
