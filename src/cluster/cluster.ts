/**
 * `--workers N`: N servers in Web Workers sharing the listening ports
 * through SO_REUSEPORT, so the kernel spreads connections over N event
 * loops (one Deno event loop saturates one core).
 *
 * @module
 */

import type { ServeOptions, ShutdownOptions } from "../core/server.ts";
import type { LogLevel } from "../observability/logger.ts";
import { MemoryMetrics, type MetricsDump } from "../observability/metrics.ts";
import type { SessionInfo } from "../core/session_info.ts";
import { SharedCounters } from "../policy/shared_counters.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { NetAddress } from "../runtime/transport.ts";
import type { FromWorker, ToWorker } from "./worker_main.ts";

/** Options of {@linkcode startCluster}. */
export interface ClusterOptions {
  /** The runtime; its `workerUrl` is the worker entry. */
  runtime: Runtime;
  /** How many workers, at least 1. */
  workers: number;
  /**
   * Server options; only values that survive `structuredClone` (no hooks).
   */
  serve: ServeOptions;
  /** Lowest log level kept. */
  logLevel: LogLevel;
  /** Log line format. */
  logFormat: "text" | "json";
  /** Receives batches of newline-terminated log lines from every worker. */
  writeLog: (text: string) => void;
  /**
   * Receives the access-log lines apart from the other lines; without it
   * they go to `writeLog`.
   */
  writeAccessLog?: (text: string) => void;
  /**
   * Distinct users with their own metrics label, per worker.
   * @default {100}
   */
  maxUserLabels?: number;
}

/** Running workers. */
export interface Cluster {
  /** The listening addresses (the same for every worker). */
  readonly addrs: readonly NetAddress[];
  /** Resolves when every worker has stopped. */
  readonly finished: Promise<void>;
  /**
   * Shuts every worker down gracefully.
   *
   * @param options The grace period.
   * @returns When all have stopped.
   */
  shutdown(options?: ShutdownOptions): Promise<void>;
  /**
   * Reloads every worker, one after the other; the first worker opens new
   * listen addresses (port 0 included) and the others join its ports.
   *
   * @param serve The new server options (cloneable values only).
   * @param logLevel The new log level.
   * @param logFormat The new log format.
   * @throws {Error} With the first failing worker's message.
   */
  reload(
    serve: ServeOptions,
    logLevel: LogLevel,
    logFormat: "text" | "json",
  ): Promise<void>;
  /**
   * Collects and sums the metrics of every worker, sessions in progress
   * included.
   *
   * @returns The merged dump.
   */
  dump(): Promise<MetricsDump>;
  /**
   * Collects the sessions in progress of every worker.
   *
   * @returns Their rows, worker by worker.
   */
  sessions(): Promise<SessionInfo[]>;
}

class _WorkerHandle {
  readonly worker: Worker;
  #waiters = new Map<string, (message: FromWorker) => void>();
  #gone = false;
  stopped: Promise<void>;
  #stop!: () => void;

  constructor(
    workerUrl: URL,
    writeLog: (text: string) => void,
    writeAccessLog: (text: string) => void,
  ) {
    this.worker = new Worker(workerUrl, { type: "module" });
    this.stopped = new Promise((resolve) => this.#stop = resolve);
    this.worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.type === "log") return writeLog(message.text);
      if (message.type === "access") return writeAccessLog(message.text);
      const key = message.type === "metrics" || message.type === "sessions"
        ? `${message.type}:${message.id}`
        : message.type === "failed"
        ? "listening"
        : message.type === "reload-failed"
        ? "reloaded"
        : message.type;
      this.#waiters.get(key)?.(message);
      this.#waiters.delete(key);
      if (message.type === "stopped") {
        this.worker.terminate();
        this.#stopped();
      }
    };
    // A worker that cannot even load (for example without --allow-read for
    // its module) reports here; turn that into a start failure instead of
    // an uncaught error in the main thread.
    this.worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      const text = event.message ?? "Worker failed";
      const message: FromWorker = {
        type: "failed",
        message: /read access/.test(text)
          ? `${text} (--workers loads its worker module: add --allow-read)`
          : text,
      };
      for (const wake of this.#waiters.values()) wake(message);
      this.#waiters.clear();
      this.worker.terminate();
      this.#stopped();
    };
  }

  /**
   * A terminated worker answers nothing: whoever still waits (a scrape
   * during shutdown) gets "failed" instead of waiting forever, which would
   * also hold up the admin listener's shutdown.
   */
  #stopped(): void {
    this.#gone = true;
    const gone: FromWorker = { type: "failed", message: "Worker stopped" };
    for (const wake of this.#waiters.values()) wake(gone);
    this.#waiters.clear();
    this.#stop();
  }

  request(message: ToWorker, reply: string): Promise<FromWorker> {
    if (this.#gone) {
      return Promise.resolve({ type: "failed", message: "Worker stopped" });
    }
    return new Promise((resolve) => {
      this.#waiters.set(reply, resolve);
      this.worker.postMessage(message);
    });
  }
}

/**
 * Starts `workers` servers. The first binds the requested addresses (port 0
 * included) and the others bind the same concrete ports.
 *
 * @param options Count, server options and log settings.
 * @returns The cluster once every worker listens.
 * @throws {Error} With the first worker's message when a worker cannot
 * start (the others are stopped).
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  if (!(Number.isInteger(options.workers) && options.workers >= 1)) {
    throw new RangeError(
      `workers must be a positive integer, got ${options.workers}`,
    );
  }
  const handles: _WorkerHandle[] = [];
  let addrs: NetAddress[] | null = null;
  // One table of limit counters for every worker: per-user and per-client
  // limits hold for the process.
  const counters = options.serve.sharedLimits ??
    SharedCounters.create().buffer;
  const stopAll = () => {
    for (const handle of handles) handle.worker.terminate();
  };
  for (let i = 0; i < options.workers; i++) {
    const handle = new _WorkerHandle(
      options.runtime.workerUrl,
      options.writeLog,
      options.writeAccessLog ?? options.writeLog,
    );
    handles.push(handle);
    const listen = addrs
      ? addrs.map((a) => ({ hostname: a.hostname, port: a.port }))
      : options.serve.listen;
    const answer = await handle.request({
      type: "start",
      options: { ...options.serve, listen, sharedLimits: counters },
      logLevel: options.logLevel,
      logFormat: options.logFormat,
      maxUserLabels: options.maxUserLabels,
      accessLogApart: options.writeAccessLog !== undefined,
    }, "listening");
    if (answer.type === "failed") {
      stopAll();
      throw new Error(answer.message);
    }
    if (answer.type === "listening") addrs ??= answer.addrs;
  }
  let nextId = 0;
  let shuttingDown: Promise<void> | null = null;
  const finished = Promise.all(handles.map((h) => h.stopped)).then(() => {});
  return {
    addrs: addrs!,
    finished,
    shutdown(shutdownOptions = {}) {
      const graceMs = shutdownOptions.graceMs ?? 10_000;
      if (shuttingDown) {
        // A second call shortens the grace; the workers are already stopping.
        for (const h of handles) {
          h.worker.postMessage({ type: "shutdown", graceMs });
        }
        return shuttingDown;
      }
      shuttingDown = Promise.all(
        handles.map((h) => h.request({ type: "shutdown", graceMs }, "stopped")),
      ).then(() => finished);
      return shuttingDown;
    },
    async reload(serve, logLevel, logFormat) {
      let first: NetAddress[] | null = null;
      for (const handle of handles) {
        const listen = first
          ? first.map((a) => ({ hostname: a.hostname, port: a.port }))
          : serve.listen;
        const answer = await handle.request({
          type: "reload",
          options: { ...serve, listen, sharedLimits: counters },
          logLevel,
          logFormat,
        }, "reloaded");
        if (answer.type === "reload-failed") throw new Error(answer.message);
        if (answer.type === "reloaded") first ??= answer.addrs;
      }
    },
    async dump() {
      const total = new MemoryMetrics();
      const id = nextId++;
      const answers = await Promise.all(
        handles.map((h) => h.request({ type: "metrics", id }, `metrics:${id}`)),
      );
      for (const answer of answers) {
        if (answer.type === "metrics") total.merge(answer.dump);
      }
      return total.dump();
    },
    async sessions() {
      const id = nextId++;
      const answers = await Promise.all(
        handles.map((h) =>
          h.request({ type: "sessions", id }, `sessions:${id}`)
        ),
      );
      return answers.flatMap((a) => a.type === "sessions" ? a.sessions : []);
    },
  };
}
