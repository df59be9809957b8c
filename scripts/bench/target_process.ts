/**
 * Starting and stopping `target.ts`, the echo/sink/source servers.
 *
 * @module
 */

import type { TargetName } from "./workloads.ts";

/** Longest the target may take to print its ports, ms. */
const START_TIMEOUT_MS = 20_000;

/** The running target process. */
export class TargetProcess {
  #child: Deno.ChildProcess;
  #ports: Record<TargetName, number>;

  private constructor(
    child: Deno.ChildProcess,
    ports: Record<TargetName, number>,
  ) {
    this.#child = child;
    this.#ports = ports;
  }

  /**
   * Starts `script` and waits for its ports.
   *
   * @param lifetimeSecs upper bound on how long it runs even if never stopped.
   */
  static async start(
    script: string,
    lifetimeSecs: number,
  ): Promise<TargetProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        script,
        "--lifetime",
        String(Math.ceil(lifetimeSecs)),
      ],
      // stdin stays open while we run; its EOF tells the target to exit.
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      let text = "";
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("Target did not report its ports")),
          START_TIMEOUT_MS,
        );
      });
      // Bounded by the timeout; the target prints one short line.
      while (!text.includes("\n")) {
        const { value, done } = await Promise.race([reader.read(), timeout]);
        if (done) throw new Error("Target exited before reporting its ports");
        text += value;
      }
      const ports = JSON.parse(text.slice(0, text.indexOf("\n"))) as Record<
        TargetName,
        number
      >;
      return new TargetProcess(child, ports);
    } catch (error) {
      child.kill("SIGKILL");
      await child.status;
      throw error;
    } finally {
      clearTimeout(timer);
      reader.releaseLock();
    }
  }

  /** PID of the target process. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Port of one target server on 127.0.0.1. */
  port(name: TargetName): number {
    return this.#ports[name];
  }

  /** Closes its stdin (it exits by itself), SIGTERM as a fallback. */
  async stop(): Promise<void> {
    try {
      await this.#child.stdin.close();
    } catch {
      // already closed
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      this.#child.status.then(() => true),
      new Promise<false>((
        resolve,
      ) => (timer = setTimeout(() => resolve(false), 3000))),
    ]);
    clearTimeout(timer);
    if (!exited) {
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // exited in the meantime
      }
    }
    await this.#child.status;
    await this.#child.stdout.cancel().catch(() => {});
  }
}
