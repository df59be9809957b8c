/**
 * Idle-memory workload: hold many established tunnels and measure how much
 * the proxy's memory grew per tunnel.
 *
 * Sequence: sample the proxy (base RSS) → open and close a few tunnels so
 * lazily initialised state is not charged to the held ones → sample →
 * open N tunnels, each doing one CONNECT and one 32-byte echo so the relay
 * is running → settle → sample → hold → echo once more on every tunnel to
 * count the live ones → close all.
 *
 * PSS (from `/proc/PID/smaps_rollup`) splits shared pages fairly between
 * processes, so it is the better per-connection figure; RSS is reported too.
 * Kernel socket buffers are in neither.
 *
 * @module
 */

import type { Route } from "./dial.ts";
import type { LoadResult } from "./load_result.ts";
import { openEchoedTunnel, runPool } from "./pool.ts";
import { sampleTree } from "./proc_stats.ts";
import { readExact, writeAll } from "./socks_client.ts";
import { sleep } from "./sleep.ts";

/** Tunnels opened at once. */
const OPEN_CONCURRENCY = 100;
/** Tunnels opened and closed before the baseline sample. */
const PREWARM = 100;
/** Wait for the proxy to settle before a memory sample, ms. */
const SETTLE_MS = 1000;
/** Payload of each echo. */
const MESSAGE_BYTES = 32;
/** Longest the opening or the final echo may take, ms. */
const PHASE_LIMIT_MS = 60_000;

/** Options for {@link runIdleMemory}. */
export interface IdleMemoryOptions {
  /** Tunnels to hold, 1–20000. */
  conns: number;
  /** Route to the echo server; must go through the proxy. */
  route: Route;
  /** PID of the proxy whose memory to sample. */
  proxyPid: number;
  /** Seconds to hold the tunnels after the sample. */
  holdSecs: number;
}

/** Runs the idle-memory workload and returns its result. */
export async function runIdleMemory(
  options: IdleMemoryOptions,
): Promise<LoadResult> {
  const { conns, route, proxyPid } = options;
  if (!(Number.isInteger(conns) && conns >= 1 && conns <= 20_000)) {
    throw new RangeError(`Connections must be 1-20000: ${conns}`);
  }
  if (!route.proxy) throw new TypeError("The idle workload needs a proxy");
  const errors = { count: 0, last: "" };
  const message = new Uint8Array(MESSAGE_BYTES).fill(0x49);
  const held: (Deno.TcpConn | undefined)[] = new Array(conns);

  const base = sampleTree(proxyPid);
  await runPool(
    PREWARM,
    OPEN_CONCURRENCY,
    PHASE_LIMIT_MS,
    async (_i, dialer) => {
      const conn = await dialer.open();
      try {
        await writeAll(conn, message);
        await readExact(conn, new Uint8Array(MESSAGE_BYTES), MESSAGE_BYTES);
      } finally {
        conn.close();
      }
    },
    route,
    errors,
  );
  await sleep(SETTLE_MS);
  const before = sampleTree(proxyPid);

  let result: LoadResult;
  try {
    const ready = await runPool(
      conns,
      OPEN_CONCURRENCY,
      PHASE_LIMIT_MS,
      (i, dialer) =>
        openEchoedTunnel(dialer, message, (conn) => (held[i] = conn)),
      route,
      errors,
    );
    await sleep(SETTLE_MS);
    const after = sampleTree(proxyPid);
    await sleep(options.holdSecs * 1000);

    const live = held.filter((c): c is Deno.TcpConn => c !== undefined);
    let alive = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled(live.map(async (conn) => {
        const back = new Uint8Array(MESSAGE_BYTES);
        await writeAll(conn, message);
        await readExact(conn, back, MESSAGE_BYTES);
        alive++;
      })),
      new Promise((resolve) => (timer = setTimeout(resolve, PHASE_LIMIT_MS))),
    ]);
    clearTimeout(timer);

    result = {
      kind: "idle",
      windowSecs: options.holdSecs,
      errors: errors.count,
      idleConns: conns,
      idleReady: ready,
      idleAlive: alive,
    };
    if (base) result.baseRssKib = base.rssKib;
    if (before && after && ready > 0) {
      result.rssKibPerConn = (after.rssKib - before.rssKib) / ready;
      if (before.pssKib !== undefined && after.pssKib !== undefined) {
        result.pssKibPerConn = (after.pssKib - before.pssKib) / ready;
      }
    }
    if (errors.last) result.lastError = errors.last;
  } finally {
    for (const conn of held) {
      try {
        conn?.close();
      } catch {
        // already closed
      }
    }
  }
  return result;
}
