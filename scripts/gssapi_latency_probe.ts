/**
 * Times GSS-API context establishment in the current runtime (Deno or Bun):
 * `N` initiator and acceptor contexts against the keytab and credential
 * cache given, printed as one JSON line. Run by `scripts/gssapi_latency.ts`.
 *
 * Usage: gssapi_latency_probe.ts KEYTAB CCACHE N
 *
 * @module
 */

import process from "node:process";
import type { GssApi } from "../src/runtime/gssapi.ts";

const [keytab, ccache, count] = process.argv.slice(2);
const isBun = "Bun" in globalThis;
const load: () => Promise<GssApi> = isBun
  ? (await import("../src/runtime/bun/gssapi.ts")).loadBunGssapi
  : (await import("../src/runtime/deno/gssapi.ts")).loadDenoGssapi;
const api = await load();
const acceptor = await api.acceptor({ keytab: keytab! });
const initiator = await api.initiator({ ccache: ccache! });
const accept: number[] = [];
const cached: number[] = [];
const fresh: number[] = [];
for (let i = 0; i < Number(count); i++) {
  // The first context per service name needs a service ticket from the KDC.
  const client = initiator.initiate({
    target: i % 2 ? "rcmd@localhost" : "rcmd@127.0.0.1",
  });
  let start = performance.now();
  const first = await client.step(null);
  (i < 2 ? fresh : cached).push(performance.now() - start);
  const server = acceptor.accept();
  start = performance.now();
  const answer = await server.step(first.output!);
  accept.push(performance.now() - start);
  await client.step(answer.output!);
  client.close();
  server.close();
}
acceptor.close();
initiator.close();
console.log(JSON.stringify({
  runtime: isBun ? "bun" : "deno",
  contexts: accept.length,
  acceptMs: _summary(accept),
  initiateFromCacheMs: _summary(cached),
  initiateWithKdcMs: _summary(fresh),
}));

function _summary(values: number[]): { median: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!
      .toFixed(3));
  return { median: at(0.5), p99: at(0.99) };
}
