/**
 * A proxy server process started by the benchmark: spawn, wait until it
 * accepts connections, keep its stderr drained, stop it by PID.
 *
 * @module
 */

import { sleep } from "./sleep.ts";

/** How to start a server. */
export interface LaunchSpec {
  /** Executable (a name on PATH or a path). */
  command: string;
  /** Arguments. */
  args: string[];
  /** Working directory. @default the benchmark's */
  cwd?: string;
  /**
   * Configuration file contents. It is written to a temporary file (needs
   * write permission), `{config}` in `args` becomes its path, and it is
   * removed when the server stops. @default none
   */
  config?: string;
}

/** Bytes of stderr kept for error messages. */
const STDERR_TAIL_BYTES = 4096;
/** Longest a server may take to accept its first connection, ms. */
const START_TIMEOUT_MS = 20_000;
/** Longest a server may take to exit after SIGTERM, ms. */
const STOP_TIMEOUT_MS = 5_000;

/** A running server; stop it with {@link ServerProcess.stop}. */
export class ServerProcess {
  #child: Deno.ChildProcess;
  #port: number;
  #tail = new Uint8Array(0);
  #drained: Promise<void>;
  #exited = false;
  #configPath: string | undefined;

  private constructor(
    child: Deno.ChildProcess,
    port: number,
    configPath: string | undefined,
  ) {
    this.#child = child;
    this.#port = port;
    this.#configPath = configPath;
    // The pipe must be read continuously: a server blocked on a full stderr
    // pipe would stall mid-benchmark. Only the tail is kept.
    this.#drained = this.#drain(child.stderr);
    child.status.then(() => (this.#exited = true), () => (this.#exited = true));
  }

  /**
   * Starts `spec` and resolves once 127.0.0.1:`port` accepts a connection.
   *
   * @throws {Error} if the process exits or does not listen in time; the
   *   message carries the end of its stderr.
   */
  static async start(spec: LaunchSpec, port: number): Promise<ServerProcess> {
    let configPath: string | undefined;
    if (spec.config !== undefined) {
      // Dante sizes its config file before parsing, so a pipe will not do.
      configPath = await Deno.makeTempFile({
        prefix: "socks5-deno-bench-",
        suffix: ".conf",
      });
      await Deno.writeTextFile(configPath, spec.config);
    }
    const path = configPath;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(spec.command, {
        args: path === undefined
          ? spec.args
          : spec.args.map((a) => a.replaceAll("{config}", path)),
        ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (path !== undefined) await Deno.remove(path).catch(() => {});
      throw error;
    }
    const server = new ServerProcess(child, port, configPath);
    const deadline = performance.now() + START_TIMEOUT_MS;
    // Bounded by the deadline; each probe is one short loopback connect.
    while (performance.now() < deadline) {
      if (server.#exited) {
        await server.stop();
        throw new Error(
          `"${spec.command}" exited at start: ${server.stderrTail()}`,
        );
      }
      try {
        const probe = await Deno.connect({ hostname: "127.0.0.1", port });
        probe.close();
        return server;
      } catch {
        await sleep(50);
      }
    }
    await server.stop();
    throw new Error(
      `"${spec.command}" did not listen on port ${port}: ${server.stderrTail()}`,
    );
  }

  /** True once the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** PID of the server process. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Loopback port the server listens on. */
  get port(): number {
    return this.#port;
  }

  /** The last few KiB the server wrote to stderr. */
  stderrTail(): string {
    return new TextDecoder().decode(this.#tail).trim().split("\n").slice(-5)
      .join(" | ");
  }

  /** SIGTERM, then SIGKILL if it has not exited after a few seconds. */
  async stop(): Promise<void> {
    if (!this.#exited) {
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // exited in the meantime
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stopped = await Promise.race([
        this.#child.status.then(() => true),
        new Promise<false>((
          resolve,
        ) => (timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (!stopped) {
        try {
          this.#child.kill("SIGKILL");
        } catch {
          // exited in the meantime
        }
      }
    }
    await this.#child.status;
    await this.#drained;
    if (this.#configPath !== undefined) {
      await Deno.remove(this.#configPath).catch(() => {});
      this.#configPath = undefined;
    }
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of stream) {
        const joined = new Uint8Array(this.#tail.length + chunk.length);
        joined.set(this.#tail);
        joined.set(chunk, this.#tail.length);
        this.#tail = joined.slice(-STDERR_TAIL_BYTES);
      }
    } catch {
      // the pipe breaks when the process is killed
    }
  }
}
