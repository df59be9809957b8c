/**
 * How long GSS-API context establishment holds the calling thread, on Deno
 * and on the pinned Bun (where FFI calls block the event loop): sets up a
 * throwaway MIT realm on loopback, then runs `gssapi_latency_probe.ts` in
 * each runtime. `deno task gssapi-latency [N]` (default 200 contexts).
 *
 * @module
 */

import { TestKdc } from "../tests/_helpers/kdc.ts";
import { findBun } from "./bun.ts";

const count = Deno.args[0] ?? "200";
const probe = new URL("./gssapi_latency_probe.ts", import.meta.url).pathname;
await using kdc = await TestKdc.start();
const ccache = await kdc.user("latency");
const runs: Array<[string, string[]]> = [[
  Deno.execPath(),
  ["run", "--allow-ffi", "--allow-read", "--allow-env", probe],
]];
const bun = findBun();
if (bun) runs.push([bun, [probe]]);
else {console.error(
    "The pinned Bun is not installed (deno task build): Deno only",
  );}
for (const [program, args] of runs) {
  const { code, stdout, stderr } = await new Deno.Command(program, {
    args: [...args, kdc.keytab, ccache, count],
    env: kdc.env(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  if (code !== 0) throw new Error(`${program} failed: ${decode(stderr)}`);
  console.log(decode(stdout).trim());
}
