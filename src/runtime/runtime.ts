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

/** What the process uses, for the `process_*` metrics. */
export interface ProcessStats {
  /** Resident memory, in bytes. */
  residentBytes: number;
  /** The JavaScript heap in use, in bytes. */
  heapUsedBytes: number;
  /**
   * The heap size the engine reports, in bytes: used and free on V8;
   * JavaScriptCore counts differently and can report less than in use.
   */
  heapTotalBytes: number;
  /** Memory outside the heap held by JavaScript objects (buffers), in bytes. */
  externalBytes: number;
  /** User plus system CPU time, in seconds. */
  cpuSeconds: number;
  /** When the process started, seconds since the epoch. */
  startTimeSeconds: number;
  /** Open file descriptors; `null` where they cannot be read. */
  openFds: number | null;
  /** The soft limit on file descriptors; `null` where unknown. */
  maxFds: number | null;
}

/** A file opened for appending, written synchronously. */
export interface AppendFile {
  /**
   * Appends text.
   *
   * @param text What to write.
   */
  write(text: string): void;
  /** Closes the file; idempotent. */
  close(): void;
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
   * Opens a file for appending, creating it (mode 0640) when missing.
   *
   * @param path The file.
   * @returns The open file.
   * @throws {Error} When it cannot be opened.
   */
  openAppendFile(path: string): AppendFile;
  /**
   * What the process uses now.
   *
   * @returns Memory, CPU, start time and descriptors.
   */
  stats(): ProcessStats;
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
