/**
 * The server under soak: the real program (Deno, Bun or the executable) as a child
 * process, on free loopback ports, with its metrics endpoint, its warnings
 * and errors, and its resident memory.
 *
 * @module
 */

import { commandLine, type ServerCommand } from "../server_command.ts";

/** The server's counters that the soak reports, from its metrics endpoint. */
export interface ServerMetrics {
  sessionsActive: number;
  sessionsTotal: number;
  bytesUp: number;
  bytesDown: number;
  udpDropped: number;
}

/** A running server process. */
export class SoakServer implements AsyncDisposable {
  /** The SOCKS5 address. */
  readonly addr: { hostname: string; port: number };
  /** Warning and error log lines, parsed. */
  readonly logs: Array<Record<string, unknown>> = [];
  /** Other stderr lines (crash traces, runtime warnings), the first 200. */
  readonly stderr: string[] = [];
  #child: Deno.ChildProcess;
  #metricsUrl: string;
  #reading: Promise<void>;
  #exited = false;
  #status: Promise<Deno.CommandStatus>;

  private constructor(
    child: Deno.ChildProcess,
    port: number,
    metricsPort: number,
  ) {
    this.#child = child;
    this.addr = { hostname: "127.0.0.1", port };
    this.#metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    this.#status = child.status.then((status) => {
      this.#exited = true;
      return status;
    });
    this.#reading = this.#readLogs();
  }

  /**
   * Starts the server with JSON logs at level warn and waits until it
   * answers on its metrics endpoint.
   *
   * @param command How to start it (Deno, Bun, the executable).
   * @param extraArgs Further flags (timeouts).
   * @returns The running server.
   */
  static async start(
    command: ServerCommand,
    extraArgs: readonly string[],
  ): Promise<SoakServer> {
    const port = _freePort();
    const metricsPort = _freePort();
    const line = commandLine(command, [
      "--listen",
      `127.0.0.1:${port}`,
      "--metrics",
      `127.0.0.1:${metricsPort}`,
      "--log-format",
      "json",
      "--log-level",
      "warn",
      ...extraArgs,
    ]);
    const child = new Deno.Command(line.program, {
      args: line.args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const server = new SoakServer(child, port, metricsPort);
    const deadline = Date.now() + 30_000;
    for (let i = 0; i < 300 && Date.now() < deadline; i++) {
      if (server.#exited) break;
      try {
        await server.metrics();
        return server;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await server[Symbol.asyncDispose]();
    throw new Error(
      `Server did not start: ${JSON.stringify(server.logs.slice(0, 3))}`,
    );
  }

  /** The server's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Reads the server's counters.
   *
   * @returns The values the report uses.
   */
  async metrics(): Promise<ServerMetrics> {
    const response = await fetch(this.#metricsUrl, {
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    const sum = (name: string, labels = "") => {
      let total = 0;
      for (const line of text.split("\n")) {
        if (
          line.startsWith(`socks5_${name} `) ||
          (line.startsWith(`socks5_${name}{`) && line.includes(labels))
        ) {
          total += Number(line.slice(line.lastIndexOf(" ") + 1));
        }
      }
      return total;
    };
    return {
      sessionsActive: sum("sessions_active"),
      sessionsTotal: sum("sessions_total"),
      bytesUp: sum("relayed_bytes_total", 'direction="up"'),
      bytesDown: sum("relayed_bytes_total", 'direction="down"'),
      udpDropped: sum("udp_dropped_total"),
    };
  }

  /**
   * The process's resident set size, from `/proc/PID/status`. Read through
   * `cat`, because Deno asks for --allow-all to read another process's
   * `/proc` files, and the soak runs with named permissions only.
   *
   * @returns KiB, or `undefined` when it cannot be read.
   */
  rssKib(): number | undefined {
    try {
      const output = new Deno.Command("cat", {
        args: [`/proc/${this.pid}/status`],
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      if (!output.success) return undefined;
      const status = new TextDecoder().decode(output.stdout);
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Stops the server with SIGTERM and waits for it.
   *
   * @returns Its exit code.
   */
  async stop(): Promise<number> {
    if (!this.#exited) {
      try {
        this.#child.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    const status = await this.#status;
    await this.#reading;
    return status.code;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #readLogs(): Promise<void> {
    let rest = "";
    try {
      for await (
        const text of this.#child.stderr.pipeThrough(new TextDecoderStream())
      ) {
        rest += text;
        const lines = rest.split("\n");
        rest = lines.pop()!;
        for (const line of lines) {
          if (!line.startsWith("{")) {
            // Not a log line: a crash trace or a runtime warning. Keep it.
            if (this.stderr.length < 200) this.stderr.push(line);
            continue;
          }
          try {
            this.logs.push(JSON.parse(line));
          } catch { /* a partial line from a crash: ignore */ }
        }
      }
    } catch { /* the pipe closed */ }
  }
}

/** A loopback TCP port that was free a moment ago. */
function _freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}
