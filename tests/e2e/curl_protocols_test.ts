/**
 * curl through the other protocols served on the SOCKS5 port: SOCKS4
 * (`--socks4`), SOCKS4A (`--socks4a`, the name resolved by the server) and
 * an HTTP proxy (`-x http://`), both plain absolute-URI forwarding and
 * CONNECT tunnels (`--proxytunnel`), with Basic proxy credentials.
 */
import { serverTest } from "../_helpers/server_commands.ts";
import assert from "node:assert/strict";
import { findExecutable } from "./_client_tool.ts";
import {
  BIG_BODY_BYTES,
  bigBodySha256,
  HELLO_BODY,
  startHttpTarget,
} from "./_http_target.ts";
import { deterministicBody } from "./_deterministic_body.ts";
import { assertSucceeded, runCommand } from "./_run_command.ts";
import { ServerProcess } from "../_helpers/server_process.ts";

const curl = findExecutable("curl", "apt-get install curl");

const BASE_ARGS = [
  "--disable",
  "--silent",
  "--show-error",
  "--fail",
  "--globoff",
  "--max-time",
  "60",
];

serverTest({
  name:
    "curl fetches through SOCKS4, SOCKS4A and the HTTP proxy on the same port",
  ignore: curl.ignore,
  async fn(t, command) {
    curl.assertAvailable();
    await using server = await ServerProcess.start({ server: command });
    await using target = await startHttpTarget({ hostname: "127.0.0.1" });
    const proxy = `127.0.0.1:${server.port}`;
    // One target per case, so each case's session is told apart by port.
    const cases: Array<[string, string[], string, string]> = [
      ["--socks4", ["--socks4", proxy], "127.0.0.1", "socks4"],
      ["--socks4a with a name", ["--socks4a", proxy], "localhost", "socks4"],
      ["-x http:// (plain)", ["-x", `http://${proxy}`], "127.0.0.1", "http"],
      [
        "-x http:// --proxytunnel (CONNECT)",
        ["-x", `http://${proxy}`, "--proxytunnel"],
        "127.0.0.1",
        "http",
      ],
    ];
    for (const [name, args, host, protocol] of cases) {
      await t.step(name, async () => {
        await using own = await startHttpTarget({ hostname: "127.0.0.1" });
        const result = await runCommand(curl.command, [
          ...BASE_ARGS,
          ...args,
          `http://${host}:${own.port}/hello`,
        ]);
        assertSucceeded(result, `curl ${name}`);
        assert.equal(result.stdoutText, HELLO_BODY);
        await server.waitForSession({
          command: "connect",
          destination: { host, port: own.port },
          reply: 0,
          protocol,
          minBytesDown: HELLO_BODY.length,
        });
      });
    }

    await t.step(
      "a 64 MiB download arrives intact through plain HTTP forwarding",
      async () => {
        const result = await runCommand(curl.command, [
          ...BASE_ARGS,
          "-x",
          `http://${proxy}`,
          `${target.origin}/big`,
        ], { hashStdout: true, timeoutMs: 90_000 });
        assertSucceeded(result, "curl -x http:// /big");
        assert.equal(result.stdoutLength, BIG_BODY_BYTES);
        assert.equal(result.stdoutSha256, bigBodySha256());
      },
    );

    await t.step(
      "a 4 MiB chunked upload arrives intact through plain HTTP forwarding",
      async () => {
        const dir = await Deno.makeTempDir({ prefix: "socks5-e2e-upload-" });
        try {
          const body = deterministicBody(4 * 1024 * 1024);
          const bytes = new Uint8Array(await new Response(body).arrayBuffer());
          await Deno.writeFile(`${dir}/body`, bytes);
          const digest = new Uint8Array(
            await crypto.subtle.digest("SHA-256", bytes),
          );
          const sha = Array.from(
            digest,
            (b) => b.toString(16).padStart(2, "0"),
          ).join("");
          for (const framing of [[], ["-H", "Transfer-Encoding: chunked"]]) {
            const result = await runCommand(curl.command, [
              ...BASE_ARGS,
              "-x",
              `http://${proxy}`,
              ...framing,
              "--data-binary",
              `@${dir}/body`,
              `${target.origin}/upload`,
            ], { timeoutMs: 60_000 });
            assertSucceeded(result, `curl upload ${framing.join(" ")}`);
            assert.equal(result.stdoutText, `${bytes.length} ${sha}\n`);
          }
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    );
  },
});

serverTest({
  name:
    "curl's HTTP proxy requests need Basic credentials when users are configured; SOCKS4 is then off",
  ignore: curl.ignore,
  async fn(t, command) {
    curl.assertAvailable();
    await using server = await ServerProcess.start({
      server: command,
      users: ["alice:s3cret-pw"],
    });
    await using target = await startHttpTarget({ hostname: "127.0.0.1" });
    const proxy = `127.0.0.1:${server.port}`;

    await t.step("right credentials: served, the user logged", async () => {
      for (const tunnel of [[], ["--proxytunnel"]]) {
        const result = await runCommand(curl.command, [
          ...BASE_ARGS,
          "-x",
          `http://alice:s3cret-pw@${proxy}`,
          ...tunnel,
          `${target.origin}/hello`,
        ]);
        assertSucceeded(result, `curl -x with credentials ${tunnel}`);
        assert.equal(result.stdoutText, HELLO_BODY);
      }
      await server.waitForSession({
        protocol: "http",
        user: "alice",
        reply: 0,
      });
    });

    await t.step("wrong password: 407 with Proxy-Authenticate", async () => {
      const served = target.requests.length;
      const result = await runCommand(curl.command, [
        "--disable",
        "--silent",
        "--include",
        "-x",
        `http://alice:wrong@${proxy}`,
        `${target.origin}/hello`,
      ]);
      assert.match(
        result.stdoutText,
        /^HTTP\/1\.1 407 Proxy Authentication Required\r\n/,
      );
      assert.match(
        result.stdoutText,
        /\r\nProxy-Authenticate: Basic realm="socks5-deno"\r\n/,
      );
      assert.equal(
        target.requests.length,
        served,
        "nothing reached the target",
      );
    });

    await t.step("--socks4: closed without a reply", async () => {
      const result = await runCommand(curl.command, [
        ...BASE_ARGS,
        "--socks4",
        proxy,
        `${target.origin}/hello`,
      ]);
      // 97: curl's "proxy handshake error", here the connection closed.
      assert.equal(result.code, 97, result.stderr);
      assert.equal(result.stdoutText, "");
    });
  },
});
