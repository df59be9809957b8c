import assert from "node:assert/strict";
import { runProbe } from "../../src/cli/probe.ts";
import type { ProcessHost } from "../../src/runtime/runtime.ts";
import { denoRuntime } from "../../src/runtime/deno/runtime.ts";
import { startServer } from "../_helpers/test_server.ts";

function captureHost() {
  const out: string[] = [];
  const err: string[] = [];
  const host: ProcessHost = {
    programName: "socks5-deno",
    writeStdout: (text) => void out.push(text),
    writeStderr: (text) => void err.push(text),
    readTextFile: () => Promise.reject(new Error("unused")),
    onSignal: () => () => {},
    openAppendFile: () => {
      throw new Error("unused");
    },
    stats: () => {
      throw new Error("unused");
    },
  };
  return { host, out, err };
}

Deno.test("runProbe() prints one line per finding for people", async () => {
  await using s = await startServer({ commands: { bind: false } });
  const { host, out, err } = captureHost();
  const code = await runProbe(
    [`socks5://127.0.0.1:${s.addr.port}`],
    denoRuntime,
    host,
  );
  assert.equal(code, 0, err.join(""));
  const lines = out.join("").split("\n");
  assert.equal(lines[0], `server            127.0.0.1:${s.addr.port}`);
  assert.equal(
    lines[1],
    "methods           no-auth accepted, gssapi refused, username/password refused; preferred 0x00",
  );
  assert.ok(
    lines.includes("connect ipv4      ok (REP 0x00)"),
    lines.join("\n"),
  );
  assert.ok(lines.includes("bind              refused (REP 0x07)"));
  assert.ok(lines.includes("unknown command   refused (REP 0x07)"));
  assert.ok(lines.includes("bad address type  refused (REP 0x08)"));
  assert.ok(lines.some((l) => /^lacks +bind/.test(l)), lines.join("\n"));
});

Deno.test("runProbe() prints usage for --help and exits 2 for a missing URL", async () => {
  const help = captureHost();
  assert.equal(await runProbe(["--help"], denoRuntime, help.host), 0);
  assert.match(help.out.join(""), /^Usage: socks5-deno probe/);
  const none = captureHost();
  assert.equal(await runProbe([], denoRuntime, none.host), 2);
  assert.match(none.err.join(""), /expected one socks5:\/\/ URL/);
  const timeout = captureHost();
  assert.equal(
    await runProbe(
      ["--timeout", "soon", "socks5://127.0.0.1:1"],
      denoRuntime,
      timeout.host,
    ),
    2,
  );
  assert.match(timeout.err.join(""), /--timeout: expected a duration/);
});
