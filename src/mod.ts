/**
 * socks5-deno: a SOCKS5 proxy server (RFC 1928, RFC 1929: CONNECT, BIND,
 * UDP ASSOCIATE; IPv4, IPv6 and domain names; username/password) and a
 * SOCKS5 client, on Deno. (On Bun, import `src/runtime/bun/mod.ts`: the same
 * API on Bun's sockets.)
 *
 * Run a server inside your program:
 *
 * ```ts
 * import { serve } from "./mod.ts";
 *
 * await using server = await serve({
 *   listen: { hostname: "127.0.0.1", port: 0 },
 *   users: { alice: "correct horse" },
 *   timeouts: { idle: 60_000 },
 * });
 * console.log(`SOCKS5 proxy on port ${server.addr.port}`);
 * ```
 *
 * Talk to any SOCKS5 proxy (here, through the one above, to a second proxy
 * that stands in for a local service: the client sends it a greeting):
 *
 * ```ts
 * import { connect, serve } from "./mod.ts";
 *
 * await using proxy = await serve({ listen: { hostname: "127.0.0.1", port: 0 } });
 * await using service = await serve({ listen: { hostname: "127.0.0.1", port: 0 } });
 *
 * const { conn } = await connect(
 *   { host: "127.0.0.1", port: service.addr.port },
 *   { proxy: proxy.addr },
 * );
 * await conn.write(Uint8Array.of(5, 1, 0)); // a greeting, relayed
 * const answer = new Uint8Array(2);
 * await conn.read(answer); // 05 00: the service's method choice
 * conn.close();
 * ```
 *
 * `bind()` and `udpAssociate()` work the same way for BIND and UDP
 * ASSOCIATE.
 *
 * Everything a deployment varies is a hook in {@linkcode ServeOptions}:
 * {@linkcode Ruleset}, {@linkcode Resolver}, {@linkcode Outbound},
 * {@linkcode Network}, {@linkcode CredentialStore}, {@linkcode Logger} and
 * {@linkcode Metrics}.
 *
 * @module
 */

import { type Api, createApi } from "./library.ts";
import { denoRuntime } from "./runtime/deno/runtime.ts";

const _api = createApi(denoRuntime);

/** Starts a SOCKS5 server on Deno's sockets. */
export const serve: Api["serve"] = _api.serve;
/** Opens a TCP connection through a SOCKS5 proxy (CONNECT). */
export const connect: Api["connect"] = _api.connect;
/** Asks a SOCKS5 proxy to accept one incoming connection (BIND). */
export const bind: Api["bind"] = _api.bind;
/** Opens a UDP association through a SOCKS5 proxy. */
export const udpAssociate: Api["udpAssociate"] = _api.udpAssociate;
/** Opens the system GSS-API library by FFI, for the client's `gssapi` option. */
export const loadGssapi: Api["loadGssapi"] = _api.loadGssapi;
/** Deno, as the core sees it: pass it to `createApi` or `runWorker`. */
export { denoRuntime };

export * from "./library.ts";
