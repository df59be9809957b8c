/**
 * The load generator: runs one workload once and prints one JSON
 * {@link LoadResult} line to stdout. Started by `scripts/bench.ts` as its own
 * process so that its CPU is separate from the proxy and the targets.
 *
 * Usage:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read=/proc scripts/bench/load.ts \
 *   --kind up|down|echo|cr|rr|idle [--bytes N] --target 127.0.0.1:PORT [--proxy 127.0.0.1:PORT]
 *   [--conns N] [--secs S] [--warmup S] [--pid PROXY_PID] [--target-pid PID]
 *   [--user U --pass P]
 * ```
 *
 * Exit status 0 with a result (errors are counted inside it), 2 on bad
 * arguments or when the run could not start.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runConnRate } from "./conn_rate.ts";
import { parseEndpoint, type Route } from "./dial.ts";
import { runIdleMemory } from "./idle_memory.ts";
import type { LoadResult } from "./load_result.ts";
import { runRequestResponse } from "./request_response.ts";
import { runThroughput } from "./throughput.ts";

function _number(
  text: string | undefined,
  name: string,
  min: number,
  max: number,
): number {
  const value = Number(text);
  if (text === undefined || !(value >= min && value <= max)) {
    throw new RangeError(`--${name} must be in [${min}, ${max}]: "${text}"`);
  }
  return value;
}

async function _main(): Promise<LoadResult> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      kind: { type: "string" },
      target: { type: "string" },
      proxy: { type: "string" },
      conns: { type: "string", default: "1" },
      secs: { type: "string", default: "4" },
      warmup: { type: "string", default: "1" },
      hold: { type: "string", default: "1" },
      bytes: { type: "string", default: "1024" },
      pid: { type: "string" },
      "target-pid": { type: "string" },
      user: { type: "string" },
      pass: { type: "string" },
    },
  });
  if (values.target === undefined) throw new TypeError("--target is required");
  const route: Route = { destination: parseEndpoint(values.target) };
  if (values.proxy !== undefined) route.proxy = parseEndpoint(values.proxy);
  if (values.user !== undefined || values.pass !== undefined) {
    route.credentials = { user: values.user ?? "", pass: values.pass ?? "" };
  }
  const conns = _number(values.conns, "conns", 1, 20_000);
  const secs = _number(values.secs, "secs", 0.1, 600);
  const warmupSecs = _number(values.warmup, "warmup", 0, 60);
  const proxyPid = values.pid === undefined
    ? undefined
    : _number(values.pid, "pid", 1, 2 ** 22);
  const targetPid = values["target-pid"] === undefined
    ? undefined
    : _number(values["target-pid"], "target-pid", 1, 2 ** 22);
  const window = {
    secs,
    warmupSecs,
    ...(proxyPid === undefined ? {} : { proxyPid }),
    ...(targetPid === undefined ? {} : { targetPid }),
  };
  switch (values.kind) {
    case "up":
    case "down":
    case "echo":
      return await runThroughput({
        direction: values.kind,
        conns,
        route,
        ...window,
      });
    case "cr":
      return await runConnRate({ workers: conns, route, ...window });
    case "rr":
      return await runRequestResponse({
        bytes: _number(values.bytes, "bytes", 1, 1 << 20),
        route,
        ...window,
      });
    case "idle":
      if (proxyPid === undefined) {
        throw new TypeError("--pid is required for idle");
      }
      return await runIdleMemory({
        conns,
        route,
        proxyPid,
        holdSecs: _number(values.hold, "hold", 0, 600),
      });
    default:
      throw new TypeError(
        `--kind must be up, down, echo, cr, rr or idle: "${values.kind}"`,
      );
  }
}

if (import.meta.main) {
  try {
    console.log(JSON.stringify(await _main()));
  } catch (error) {
    console.error(
      `load: ${error instanceof Error ? error.message : String(error)}`,
    );
    Deno.exit(2);
  }
  // Connections cut off at the end of the window may still have pending ops.
  Deno.exit(0);
}
