/**
 * Throughput workloads: bulk payload over N tunnels for a fixed window.
 *
 * - up: the client writes to the sink;
 * - down: the source writes to the client;
 * - echo: the client writes to the echo server and reads it back, keeping a
 *   bounded window of bytes in flight per connection.
 *
 * Each connection reuses its buffers, so the load generator allocates
 * nothing per chunk.
 *
 * @module
 */

import { Dialer, type Route } from "./dial.ts";
import type { LoadResult } from "./load_result.ts";
import { MeasureWindow } from "./measure_window.ts";

/** Bytes per read or write call for up and down. */
const CHUNK = 128 * 1024;
/** Bytes per write call for echo. */
const ECHO_CHUNK = 64 * 1024;
/** Bytes in flight per echo connection. */
const ECHO_WINDOW = 256 * 1024;
/** Upper bound of read or write calls per connection per run. */
const MAX_OPS = 50_000_000;

/** Options for {@link runThroughput}. */
export interface ThroughputOptions {
  /** Direction of the payload. */
  direction: "up" | "down" | "echo";
  /** Concurrent connections, 1–256. */
  conns: number;
  /** Route to sink (up), source (down) or echo (echo). */
  route: Route;
  /** Warm-up seconds before the window. */
  warmupSecs: number;
  /** Window seconds. */
  secs: number;
  /** Proxy PID for CPU sampling. @default undefined */
  proxyPid?: number;
  /** Target PID for CPU sampling. @default undefined */
  targetPid?: number;
}

/** Runs one throughput workload and returns its result. */
export async function runThroughput(
  options: ThroughputOptions,
): Promise<LoadResult> {
  const { direction, conns } = options;
  if (!(Number.isInteger(conns) && conns >= 1 && conns <= 256)) {
    throw new RangeError(`Connections must be 1-256: ${conns}`);
  }
  const dialer = new Dialer(options.route);
  const sockets: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < conns; i++) sockets.push(await dialer.open());
  } catch (error) {
    for (const s of sockets) s.close();
    throw error;
  }
  const window = new MeasureWindow(options);
  const state = { bytes: 0, errors: 0, lastError: "" };
  const wakers: (() => void)[] = [];
  const fail = (error: unknown) => {
    // Closing sockets at the end of the window makes pending ops throw.
    if (window.stopped) return;
    state.errors++;
    state.lastError = error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);
  };
  const loops = sockets.map((conn) => {
    if (direction === "up") return _up(conn, window, state).catch(fail);
    if (direction === "down") return _down(conn, window, state).catch(fail);
    return _echo(conn, window, state, wakers).catch(fail);
  });
  const measured = await window.run(() => state.bytes, () => {
    for (const wake of wakers) wake();
    for (const s of sockets) {
      try {
        s.close();
      } catch {
        // a loop that failed may have closed it already
      }
    }
  });
  await Promise.allSettled(loops);
  const result: LoadResult = {
    kind: direction,
    windowSecs: measured.secs,
    errors: state.errors,
    mbPerSec: measured.delta / 1e6 / measured.secs,
  };
  if (state.lastError) result.lastError = state.lastError;
  if (measured.proxyCpuPct !== undefined) {
    result.proxyCpuPct = measured.proxyCpuPct;
  }
  if (measured.clientCpuPct !== undefined) {
    result.clientCpuPct = measured.clientCpuPct;
  }
  if (measured.targetCpuPct !== undefined) {
    result.targetCpuPct = measured.targetCpuPct;
  }
  if (measured.machineCpuPct !== undefined) {
    result.machineCpuPct = measured.machineCpuPct;
  }
  return result;
}

interface _State {
  bytes: number;
}

async function _up(
  conn: Deno.TcpConn,
  window: MeasureWindow,
  state: _State,
): Promise<void> {
  const buf = new Uint8Array(CHUNK).fill(0xa5);
  for (let i = 0; i < MAX_OPS && !window.stopped; i++) {
    // Never `state.bytes += await ...`: that reads `state.bytes` before the
    // await and loses the other connections' updates made meanwhile.
    const n = await conn.write(buf);
    state.bytes += n;
  }
}

async function _down(
  conn: Deno.TcpConn,
  window: MeasureWindow,
  state: _State,
): Promise<void> {
  const buf = new Uint8Array(CHUNK);
  for (let i = 0; i < MAX_OPS && !window.stopped; i++) {
    const n = await conn.read(buf);
    if (n === null) throw new Deno.errors.UnexpectedEof("Source closed early");
    state.bytes += n;
  }
}

async function _echo(
  conn: Deno.TcpConn,
  window: MeasureWindow,
  state: _State,
  wakers: (() => void)[],
): Promise<void> {
  const out = new Uint8Array(ECHO_CHUNK).fill(0x3c);
  const back = new Uint8Array(ECHO_CHUNK);
  let inFlight = 0;
  let wake: (() => void) | undefined;
  // The end of the window must also release a writer waiting for room.
  wakers.push(() => wake?.());
  const writer = async () => {
    for (let i = 0; i < MAX_OPS && !window.stopped; i++) {
      const room = ECHO_WINDOW - inFlight;
      if (room <= 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      // Top the window up to the byte, as an epoll sender would, so that
      // exactly ECHO_WINDOW bytes are in flight whatever sizes come back.
      const n = await conn.write(
        room >= ECHO_CHUNK ? out : out.subarray(0, room),
      );
      // Added after the await: the reader lowers inFlight meanwhile, and
      // `inFlight += await ...` would overwrite its updates.
      inFlight += n;
    }
  };
  const reader = async () => {
    for (let i = 0; i < MAX_OPS && !window.stopped; i++) {
      const n = await conn.read(back);
      if (n === null) throw new Deno.errors.UnexpectedEof("Echo closed early");
      inFlight -= n;
      state.bytes += n;
      if (wake && inFlight < ECHO_WINDOW) wake();
    }
  };
  await Promise.all([writer(), reader()]);
}
