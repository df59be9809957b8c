/**
 * Authentication under attack: failures do not tell an unknown user from a
 * wrong password, no credential byte reaches the logs at any level or in
 * any format, and the failure delay slows guessing without slowing anyone
 * else.
 *
 * @module
 */

import {
  commandLine,
  REQUIRE_ALL,
  SERVER_COMMANDS,
  type ServerCommand,
} from "../_helpers/server_commands.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type CredentialStore,
  StaticCredentials,
} from "../../src/auth/credential_store.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { serve } from "../../src/mod.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { startServer } from "../_helpers/test_server.ts";
import { readUntilClosed } from "./_bounded.ts";
import { sleep, within } from "../_helpers/wait.ts";

const UNKNOWN_COMMAND = [5, 9, 0, 1, 127, 0, 0, 1, 0, 80];

function login(
  user: string | Uint8Array,
  pass: string | Uint8Array,
): Uint8Array {
  const u = typeof user === "string" ? new TextEncoder().encode(user) : user;
  const p = typeof pass === "string" ? new TextEncoder().encode(pass) : pass;
  return Uint8Array.of(1, u.length, ...u, p.length, ...p);
}

/** A credential store that records every check it is asked for. */
class RecordingStore implements CredentialStore {
  readonly calls: string[] = [];
  #inner: StaticCredentials;
  constructor(users: Record<string, string>) {
    this.#inner = new StaticCredentials(users);
  }
  verify(username: string, password: Uint8Array): boolean {
    this.calls.push(username);
    return this.#inner.verify(username, password);
  }
}

/**
 * Sends a greeting, one login and a request with an unknown command (so a
 * successful login ends at once too, with REP 07); returns everything until
 * the close.
 */
async function attempt(
  addr: { hostname: string; port: number },
  frame: Uint8Array,
): Promise<{ answer: string; end: string }> {
  using client = await RawClient.open(addr);
  await client.send(Uint8Array.of(5, 1, 2, ...frame, ...UNKNOWN_COMMAND));
  const { bytes, end } = await within(
    readUntilClosed(client.conn, 64),
    10_000,
    "login answer",
  );
  return {
    answer: [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" "),
    end,
  };
}

Deno.test("session answers a wrong password and an unknown user identically, through the same check", async () => {
  const store = new RecordingStore({ alice: "wonderland" });
  await using s = await startServer({ credentials: store });
  const wrongPassword = await attempt(s.addr, login("alice", "wonderlanD"));
  const unknownUser = await attempt(s.addr, login("mallory", "wonderland"));
  const both = await attempt(s.addr, login("mallory", "x"));
  // Same bytes, same way of closing.
  assert.deepEqual(wrongPassword, { answer: "05 02 01 01", end: "eof" });
  assert.deepEqual(unknownUser, wrongPassword);
  assert.deepEqual(both, wrongPassword);
  // The store was asked about the unknown user too: the server does not
  // short-cut on the name, so both failures take the same path.
  assert.deepEqual(store.calls, ["alice", "mallory", "mallory"]);
  const lines = await s.sessions(3);
  assert.deepEqual(
    lines.map((l) => [l.stage, l.error, l.user]),
    new Array(3).fill(["auth", "Authentication failed", null]),
  );
  assert.equal(s.metrics.get("auth_failures_total"), 3);
});

Deno.test("the auth failure delay holds back failed logins, of any kind, without delaying other clients", async () => {
  await using s = await startServer({
    users: { alice: "wonderland" },
    authFailureDelay: 1_500,
  });
  const order: string[] = [];
  const failing = [
    ["wrong password", login("alice", "guess")],
    ["unknown user", login("mallory", "guess")],
    ["bad version", Uint8Array.of(5, 1, 0x61, 1, 0x62)],
  ] as const;
  const failures = failing.map(async ([name, frame]) => {
    const result = await attempt(s.addr, frame);
    order.push(name);
    return result;
  });
  // Started after the failures were sent, a good login is answered first.
  await sleep(50);
  {
    using good = await RawClient.open(s.addr);
    await good.send(Uint8Array.of(5, 1, 2, ...login("alice", "wonderland")));
    assert.equal(await good.readHex(4), "05 02 01 00");
    order.push("good");
  }
  const results = await within(Promise.all(failures), 10_000, "failures");
  for (const result of results) {
    assert.deepEqual(result, { answer: "05 02 01 01", end: "eof" });
  }
  assert.equal(order[0], "good");
  assert.equal(s.metrics.get("auth_failures_total"), 3);
});

Deno.test("no credential byte reaches the logs, at any level, in either format", async (t) => {
  const secret = "s3cret-Passw0rd";
  const formats = ["json", "text"] as const;
  for (const format of formats) {
    await t.step(`${format}, library logger at debug`, async () => {
      const lines: string[] = [];
      await using server = await serve({
        listen: { hostname: "127.0.0.1", port: 0 },
        users: { alice: secret },
        logger: createLogger({
          level: "debug",
          format,
          write: (line) => lines.push(line),
        }),
      });
      const tried = new Set<string>([secret]);
      // Random passwords, and passwords typed into the username field (the
      // attempted username of a failed login is never logged either).
      await fc.assert(
        fc.asyncProperty(
          fc.string({ minLength: 6, maxLength: 40 }).map((p) => `pw-${p}`),
          fc.boolean(),
          async (password, inUserField) => {
            tried.add(password);
            const frame = inUserField
              ? login(password, password)
              : login("alice", password);
            await attempt(server.addr, frame);
          },
        ),
        { numRuns: 40 },
      );
      await attempt(server.addr, login("alice", secret));
      await attempt(server.addr, login(secret, secret));
      await server.shutdown({ graceMs: 0 });
      const text = lines.join("\n");
      for (const password of tried) {
        assert.equal(text.includes(password), false, `logged ${password}`);
        assert.equal(
          text.includes(JSON.stringify(password).slice(1, -1)),
          false,
          `logged ${password} escaped`,
        );
      }
      assert.ok(lines.some((l) => l.includes("session")));
    });
  }
  for (const server of SERVER_COMMANDS) {
    await t.step({
      name: `the CLI [${server.name}], --user on the command line, debug level`,
      ignore: server.missing !== null && !REQUIRE_ALL,
      fn: () => cliNeverLogs(server),
    });
  }
  async function cliNeverLogs(server: ServerCommand) {
    for (const format of formats) {
      const line = commandLine(server, [
        "--listen",
        "127.0.0.1:0",
        "--user",
        `alice:${secret}`,
        "--log-level",
        "debug",
        "--log-format",
        format,
      ]);
      const child = new Deno.Command(line.program, {
        args: line.args,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stdout = new Response(child.stdout).text();
      const reader = child.stderr.pipeThrough(new TextDecoderStream())
        .getReader();
      let text = "";
      for (
        let i = 0;
        i < 100 && !/listening.*127\.0\.0\.1:(\d+)/.test(text);
        i++
      ) {
        const { value, done } = await within(
          reader.read(),
          30_000,
          "listening",
        );
        if (done) break;
        text += value;
      }
      const port = Number(/listening.*127\.0\.0\.1:(\d+)/.exec(text)![1]);
      const addr = { hostname: "127.0.0.1", port, transport: "tcp" as const };
      assert.equal(
        (await attempt(addr, login("alice", "wrong"))).answer,
        "05 02 01 01",
      );
      assert.equal(
        (await attempt(addr, login(secret, secret))).answer,
        "05 02 01 01",
      );
      {
        using good = await RawClient.open(addr);
        await good.send(Uint8Array.of(5, 1, 2, ...login("alice", secret)));
        assert.equal(await good.readHex(4), "05 02 01 00");
      }
      child.kill("SIGTERM");
      for (let i = 0; i < 1000; i++) {
        const { value, done } = await within(reader.read(), 30_000, "exit");
        if (done) break;
        text += value;
      }
      await child.status;
      await stdout;
      assert.match(text, /session/);
      assert.equal(
        text.includes(secret),
        false,
        `${format} log holds the password`,
      );
    }
  }
});
