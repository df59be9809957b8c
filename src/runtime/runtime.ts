/**
 * What the program asks of the runtime it runs on: the network, a resolver,
 * an HTTP server, workers and the process. Each runtime implements it once
 * (`src/runtime/deno/`, `src/runtime/bun/`); the entry files pick one.
 *
 * @module
 */

import type { Resolver } from "../outbound/resolver.ts";
import type { GssLoader } from "./gssapi.ts";
import type { NetAddress, Network } from "./transport.ts";

/** A running HTTP server. */
export interface HttpServerHandle {
  /** The bound address. */
  readonly addr: NetAddress;
  /** Stops accepting and closes open connections. */
  shutdown(): Promise<void>;
}

/** Options of {@linkcode Runtime.serveHttp}. */
export interface HttpServeOptions {
  /** An IP literal or a name. */
  hostname: string;
  /** The port; 0 picks a free one. */
  port: number;
}

/** A signal an operator can send. */
export type ProcessSignal = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGUSR1";

/** The process the program runs in. */
export interface ProcessHost {
  /** The name to show in `--help`: the executable, or `deno run main.ts`. */
  readonly programName: string;
  /** Writes text to standard output, synchronously. */
  writeStdout(text: string): void;
  /** Writes text to standard error, synchronously; never throws. */
  writeStderr(text: string): void;
  /**
   * Reads a whole text file.
   *
   * @param path The file.
   * @returns Its content.
   */
  readTextFile(path: string): Promise<string>;
  /**
   * Runs `handler` on each delivery of `signal` instead of the default
   * action (which, for SIGHUP and SIGUSR1, would end the process).
   *
   * @param signal The signal.
   * @param handler What to do.
   * @returns A function that removes the handler again.
   */
  onSignal(signal: ProcessSignal, handler: () => void): () => void;
  /**
   * Reads a password from standard input: at a terminal after showing
   * `prompt` on stderr, without echo; from a pipe, its first line.
   *
   * @param prompt What to show at a terminal.
   * @returns The password.
   */
  readPassword?(prompt: string): Promise<string>;
}

/** A runtime: Deno or Bun. */
export interface Runtime {
  /** `deno` or `bun`, for logs and `build_info`. */
  readonly name: string;
  /** The runtime's version. */
  readonly version: string;
  /** TCP and UDP sockets. */
  readonly network: Network;
  /** The system resolver. */
  readonly resolver: Resolver;
  /**
   * Serves HTTP with a Fetch-style handler.
   *
   * @param options Where to listen.
   * @param handler Answers each request.
   * @returns The running server.
   */
  serveHttp(
    options: HttpServeOptions,
    handler: (request: Request) => Response | Promise<Response>,
  ): Promise<HttpServerHandle>;
  /**
   * The module URL of this runtime's worker entry, for `--workers`.
   */
  readonly workerUrl: URL;
  /**
   * Opens the system GSS-API library by FFI, for the GSS-API method
   * (RFC 1961). Called only when GSS-API is configured, so a server
   * without it never asks for FFI (`--allow-ffi` on Deno).
   */
  readonly loadGssapi: GssLoader;
}
