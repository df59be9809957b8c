/**
 * The systemd unit in examples/: sandboxed as documented, its flags exist
 * in the option table, and `systemd-analyze verify` accepts it (skipped,
 * in CI too, when systemd-analyze is not installed).
 *
 * @module
 */

import assert from "node:assert/strict";
import { OPTIONS } from "../../src/config/options.ts";
import { EXECUTABLE, REPO_ROOT } from "../_helpers/server_commands.ts";
import { findExecutable } from "../e2e/_client_tool.ts";

const UNIT = `${REPO_ROOT}examples/socks5-deno.service`;
const text = await Deno.readTextFile(UNIT);
const analyze = findExecutable(
  "systemd-analyze",
  "apt-get install systemd",
);

Deno.test("examples/socks5-deno.service is sandboxed and reloads with SIGHUP", () => {
  for (
    const line of [
      "DynamicUser=yes",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "CapabilityBoundingSet=",
      "ExecReload=/bin/kill -HUP $MAINPID",
    ]
  ) {
    assert.match(text, new RegExp(`^${line.replace(/\$/g, "\\$")}$`, "m"));
  }
});

Deno.test("examples/socks5-deno.service uses only flags the option table has", () => {
  const execStart = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(text)![1]!;
  const flags = [...execStart.matchAll(/--([a-z-]+)/g)].map((m) => m[1]);
  assert.ok(flags.length >= 5, execStart);
  const known = new Set(OPTIONS.map((o) => o.flag));
  for (const flag of flags) assert.ok(known.has(flag!), `unknown --${flag}`);
  // The admin listener stays on loopback.
  assert.match(execStart, /--admin 127\.0\.0\.1:\d+/);
});

Deno.test({
  name: "systemd-analyze verify accepts examples/socks5-deno.service",
  // Skipped without systemd-analyze, in CI too: systemd is not a package
  // this project installs.
  ignore: analyze.missing !== undefined,
  async fn() {
    // verify checks that ExecStart exists: point it at the built
    // executable instead of /usr/local/bin.
    const dir = await Deno.makeTempDir({ prefix: "socks5-unit-" });
    try {
      const unit = `${dir}/socks5-deno.service`;
      await Deno.writeTextFile(
        unit,
        text.replaceAll("/usr/local/bin/socks5-deno", EXECUTABLE),
      );
      for (
        const args of [
          ["verify", unit],
          ["security", "--offline=yes", "--threshold=30", unit],
        ]
      ) {
        const output = await new Deno.Command(analyze.command, {
          args,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const said = new TextDecoder().decode(output.stderr);
        assert.equal(output.code, 0, `${args[0]}: ${said}`);
        if (args[0] === "verify") assert.equal(said, "");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
