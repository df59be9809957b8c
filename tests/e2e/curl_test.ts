/**
 * curl, an independent SOCKS5 client, through the real server: each address
 * type, a 64 MiB download with its sha256 checked, and username/password
 * authentication both accepted and refused.
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
import { assertSucceeded, runCommand } from "./_run_command.ts";
import { ServerProcess } from "../_helpers/server_process.ts";

const curl = findExecutable("curl", "apt-get install curl");

/** curl's exit code for "proxy handshake error", e.g. refused credentials. */
const CURLE_PROXY = 97;

/** Flags for every run: fail on HTTP errors, no config file, bounded time. */
const BASE_ARGS = [
  "--disable",
  "--silent",
  "--show-error",
  "--fail",
  "--globoff",
];

serverTest({
  name:
    "curl fetches through the proxy when the target is an IPv4, a name or an IPv6 address",
  ignore: curl.ignore,
  async fn(t, command) {
    curl.assertAvailable();
    await using server = await ServerProcess.start({ server: command });
    await using v4 = await startHttpTarget({ hostname: "127.0.0.1" });
    await using v6 = await startHttpTarget({ hostname: "::1" });
    const proxy = `127.0.0.1:${server.port}`;

    await t.step(
      "--socks5 sends ATYP IPv4 when the URL is an IPv4 literal",
      async () => {
        const result = await runCommand(curl.command, [
          ...BASE_ARGS,
          "--socks5",
          proxy,
          `${v4.origin}/hello`,
        ]);
        assertSucceeded(result, "curl --socks5");
        assert.equal(result.stdoutText, HELLO_BODY);
        const session = await server.waitForSession({
          command: "connect",
          destination: { host: "127.0.0.1", port: v4.port },
        });
        assert.equal(session.reply, 0);
        assert.ok(session.bytesUp > 0, `bytesUp ${session.bytesUp}`);
        assert.ok(
          session.bytesDown >= HELLO_BODY.length,
          `bytesDown ${session.bytesDown}`,
        );
      },
    );

    await t.step(
      "--socks5-hostname sends ATYP domain when the URL names localhost",
      async () => {
        const result = await runCommand(curl.command, [
          ...BASE_ARGS,
          "--socks5-hostname",
          proxy,
          `http://localhost:${v4.port}/hello`,
        ]);
        assertSucceeded(result, "curl --socks5-hostname");
        assert.equal(result.stdoutText, HELLO_BODY);
        // The destination is the name as sent, so the server did the lookup.
        const session = await server.waitForSession({
          command: "connect",
          destination: { host: "localhost", port: v4.port },
        });
        assert.equal(session.reply, 0);
        assert.ok(
          session.bytesDown >= HELLO_BODY.length,
          `bytesDown ${session.bytesDown}`,
        );
      },
    );

    await t.step("--socks5 sends ATYP IPv6 when the URL is [::1]", async () => {
      const result = await runCommand(curl.command, [
        ...BASE_ARGS,
        "--socks5",
        proxy,
        `${v6.origin}/hello`,
      ]);
      assertSucceeded(result, "curl --socks5 to [::1]");
      assert.equal(result.stdoutText, HELLO_BODY);
      const session = await server.waitForSession({
        command: "connect",
        destination: { host: "::1", port: v6.port },
      });
      assert.equal(session.reply, 0);
      assert.ok(
        session.bytesDown >= HELLO_BODY.length,
        `bytesDown ${session.bytesDown}`,
      );
    });

    await t.step("a 64 MiB download arrives intact when relayed", async () => {
      const result = await runCommand(curl.command, [
        ...BASE_ARGS,
        "--socks5",
        proxy,
        `${v4.origin}/big`,
      ], { hashStdout: true, timeoutMs: 90_000 });
      assertSucceeded(result, "curl 64 MiB download");
      assert.equal(result.stdoutLength, BIG_BODY_BYTES);
      assert.equal(result.stdoutSha256, bigBodySha256());
      // The earlier /hello session went to the same port; this one is told
      // apart by its size.
      await server.waitForSession({
        command: "connect",
        destination: { host: "127.0.0.1", port: v4.port },
        reply: 0,
        minBytesDown: BIG_BODY_BYTES,
      });
    });
  },
});

serverTest({
  name: "curl authenticates with username/password when the server requires it",
  ignore: curl.ignore,
  async fn(t, command) {
    curl.assertAvailable();
    await using server = await ServerProcess.start({
      server: command,
      users: ["alice:s3cret-pw"],
    });
    await using target = await startHttpTarget();
    const proxyUrl = (password: string) =>
      `socks5://alice:${encodeURIComponent(password)}@127.0.0.1:${server.port}`;

    await t.step(
      "the request goes through when the password is right",
      async () => {
        const result = await runCommand(curl.command, [
          ...BASE_ARGS,
          "--proxy",
          proxyUrl("s3cret-pw"),
          `${target.origin}/hello`,
        ]);
        assertSucceeded(result, "curl with the right password");
        assert.equal(result.stdoutText, HELLO_BODY);
        const session = await server.waitForSession({
          command: "connect",
          destination: { host: "127.0.0.1", port: target.port },
        });
        assert.equal(session.user, "alice");
        assert.equal(session.reply, 0);
      },
    );

    await t.step(
      "the proxy refuses before connecting when the password is wrong",
      async () => {
        const served = target.requests.length;
        const before = server.sessions.length;
        const result = await runCommand(curl.command, [
          ...BASE_ARGS,
          "--proxy",
          proxyUrl("wrong-pw"),
          `${target.origin}/hello`,
        ]);
        assert.equal(result.code, CURLE_PROXY, `curl stderr: ${result.stderr}`);
        assert.equal(result.stdoutText, "");
        assert.equal(
          target.requests.length,
          served,
          "the target saw a request",
        );
        // The refused session is logged too, and must not have reached anything.
        await server.waitForSessionCount(before + 1);
        for (const session of server.sessions.slice(before)) {
          assert.notEqual(session.reply, 0, JSON.stringify(session));
          assert.notEqual(session.user, "alice", JSON.stringify(session));
          assert.equal(session.bytesUp, 0);
          assert.equal(session.bytesDown, 0);
        }
      },
    );

    await t.step("no password reaches the log when users authenticate", () => {
      for (const secret of ["s3cret-pw", "wrong-pw"]) {
        assert.ok(!server.log.includes(secret), `log contains ${secret}`);
      }
    });
  },
});
