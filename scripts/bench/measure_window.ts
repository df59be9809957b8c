/**
 * The timed measurement window shared by the load workloads: a warm-up, then
 * a window whose start and end are sampled for a counter and for CPU.
 *
 * @module
 */

import {
  cpuPercent,
  machineBusySeconds,
  sampleTree,
  selfCpuSeconds,
} from "./proc_stats.ts";
import { sleep } from "./sleep.ts";

/** What a window measured. */
export interface WindowResult {
  /** Counter growth between the start and the end of the window. */
  delta: number;
  /** Exact window length, seconds. */
  secs: number;
  /** Proxy tree CPU over the window, % of one core. */
  proxyCpuPct?: number;
  /** Load generator CPU over the window, % of one core. */
  clientCpuPct?: number;
  /** Target process CPU over the window, % of one core. */
  targetCpuPct?: number;
  /** Busy CPU of the whole machine over the window, % of one core. */
  machineCpuPct?: number;
}

/** Options for {@link MeasureWindow}. */
export interface MeasureWindowOptions {
  /** Seconds of load before the window opens. */
  warmupSecs: number;
  /** Window length, seconds. */
  secs: number;
  /** PID of the proxy whose CPU to sample. @default undefined */
  proxyPid?: number;
  /** PID of the target process whose CPU to sample. @default undefined */
  targetPid?: number;
}

/** CPU seconds used so far, per party. */
interface _CpuSample {
  proxy: number | undefined;
  client: number | undefined;
  target: number | undefined;
  machine: number | undefined;
}

/**
 * A warm-up followed by one measurement window. Workloads check
 * {@link MeasureWindow.stopped} in their loops and {@link MeasureWindow.contains}
 * to decide whether a sample counts.
 */
export class MeasureWindow {
  #options: MeasureWindowOptions;
  #startMs = Number.POSITIVE_INFINITY;
  #endMs = Number.POSITIVE_INFINITY;
  #stopped = false;

  /** @param options warm-up, window length and the proxy PID. */
  constructor(options: MeasureWindowOptions) {
    if (!(options.warmupSecs >= 0 && options.secs > 0 && options.secs <= 600)) {
      throw new RangeError(
        `Window must be (0, 600] s after a warm-up >= 0: ${options.secs}`,
      );
    }
    this.#options = options;
  }

  /** True once the window has closed; loops must stop then. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** True if `t` (`performance.now()` ms) lies inside the window. */
  contains(t: number): boolean {
    return t >= this.#startMs && t <= this.#endMs;
  }

  /**
   * Waits out the warm-up and the window, sampling `counter` and CPU at both
   * edges, then marks the window stopped and calls `onStop` (which should
   * close connections so that blocked reads and writes return).
   */
  async run(counter: () => number, onStop: () => void): Promise<WindowResult> {
    const { warmupSecs, secs } = this.#options;
    await sleep(warmupSecs * 1000);
    const cpu0 = this.#sampleCpu();
    this.#startMs = performance.now();
    const c0 = counter();
    await sleep(secs * 1000);
    const c1 = counter();
    this.#endMs = performance.now();
    const cpu1 = this.#sampleCpu();
    this.#stopped = true;
    onStop();
    const result: WindowResult = {
      delta: c1 - c0,
      secs: (this.#endMs - this.#startMs) / 1000,
    };
    const percent = (key: keyof _CpuSample) => {
      const a = cpu0[key];
      const b = cpu1[key];
      if (a === undefined || b === undefined) return undefined;
      return cpuPercent(
        { cpuSeconds: a, atMs: this.#startMs },
        { cpuSeconds: b, atMs: this.#endMs },
      );
    };
    const proxy = percent("proxy");
    const client = percent("client");
    const target = percent("target");
    const machine = percent("machine");
    if (proxy !== undefined) result.proxyCpuPct = proxy;
    if (client !== undefined) result.clientCpuPct = client;
    if (target !== undefined) result.targetCpuPct = target;
    if (machine !== undefined) result.machineCpuPct = machine;
    return result;
  }

  #sampleCpu(): _CpuSample {
    const { proxyPid, targetPid } = this.#options;
    return {
      proxy: proxyPid === undefined
        ? undefined
        : sampleTree(proxyPid)?.cpuSeconds,
      client: selfCpuSeconds(),
      target: targetPid === undefined
        ? undefined
        : sampleTree(targetPid)?.cpuSeconds,
      machine: machineBusySeconds(),
    };
  }
}
