/**
 * `check`, `explain` and `passwd`, run as a user would, on Deno, Bun and
 * the executable.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect } from "../../src/mod.ts";
import { verifyPasswordHash } from "../../src/auth/password_hash.ts";
import {
  commandLine,
  REPO_ROOT,
  type ServerCommand,
  serverTest,
} from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { echoTarget } from "../_helpers/targets.ts";

async function run(
  server: ServerCommand,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const line = commandLine(server, args);
  const child = new Deno.Command(line.program, {
    args: line.args,
    cwd: REPO_ROOT,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: output.code,
    stdout: decode(output.stdout),
    stderr: decode(output.stderr),
  };
}

const EXAMPLE = "examples/socks5-deno.yaml";

serverTest({
  name: "check accepts the example config and exits 0",
  async fn(_t, server) {
    const { code, stdout } = await run(server, ["check", "--config", EXAMPLE]);
    assert.equal(code, 0);
    assert.equal(stdout, `${EXAMPLE}: OK (4 rules, 3 users)\n`);
  },
});

serverTest({
  name:
    "check names the file, line, key and bad value of each problem, and exits 1",
  async fn(_t, server) {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/bad.yaml`;
      await Deno.writeTextFile(
        path,
        "listen: 127.0.0.1:0\nlimits:\n  max-sessions: 0\n  bogus: 1\n" +
          "rules:\n  - action: perhaps\n",
      );
      const bad = await run(server, ["check", "--config", path]);
      assert.equal(bad.code, 1);
      assert.deepStrictEqual(bad.stderr.trimEnd().split("\n"), [
        `socks5-deno check: ${path}:4: limits.bogus: unknown key`,
        `socks5-deno check: ${path}:6: rules[0].action: Invalid option: expected one of "allow"|"deny", got "perhaps"`,
      ]);
      await Deno.writeTextFile(
        path,
        "listen: 127.0.0.1:0\nlimits:\n  max-sessions: 0\n" +
          "idle-timeout: soon\n",
      );
      const values = await run(server, ["check", "--config", path]);
      assert.equal(values.code, 1);
      assert.deepStrictEqual(values.stderr.trimEnd().split("\n"), [
        `socks5-deno check: ${path}:4: idle-timeout: expected a duration like 500ms, 10s, 2m or 1h, got "soon"`,
        `socks5-deno check: ${path}:3: limits.max-sessions: expected a positive integer, got "0"`,
      ]);
      await Deno.writeTextFile(
        path,
        "rules:\n  - action: allow\n    to: 10.0.0.0/99\n",
      );
      const rule = await run(server, ["check", "--config", path]);
      assert.equal(rule.code, 1);
      assert.match(
        rule.stderr,
        /bad\.yaml:2: rules\[0\]: Rule "rule 1", to: expected a CIDR block, got "10\.0\.0\.0\/99"/,
      );
      // What serving would refuse: an open proxy on a public address.
      await Deno.writeTextFile(path, "listen: 0.0.0.0:1080\n");
      const open = await run(server, ["check", "--config", path]);
      assert.equal(open.code, 1);
      assert.match(
        open.stderr,
        /^socks5-deno check: Refusing to listen on 0\.0\.0\.0 without authentication/,
      );
      const missing = await run(server, [
        "check",
        "--config",
        `${dir}/nope.yaml`,
      ]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /nope\.yaml: cannot read the config file/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

serverTest({
  name: "explain prints the decision and the rule that made it",
  async fn(_t, server) {
    const cases: Array<[string[], number, string]> = [
      [
        ["--user", "alice", "connect", "example.com:443"],
        0,
        'allow by rule "staff-web"\n',
      ],
      [["connect", "198.51.100.7:25"], 1, 'deny by rule "no-smtp" (REP 02)\n'],
      [
        ["--user", "dave", "connect", "example.com:443"],
        1,
        "deny: no rule matches (REP 02)\n",
      ],
      [
        ["--user", "carol", "connect", "api.partner.example:443"],
        0,
        'allow by rule "partner-via-upstream" via socks5://127.0.0.1:1081\n',
      ],
      [
        ["--address", "10.20.3.4", "connect", "x.example:22"],
        0,
        'allow by rule "lab"\n',
      ],
    ];
    for (const [args, code, stdout] of cases) {
      // From outside 127.0.0.0/8 the "lab" rule does not apply.
      const client = args[0] === "--user" && args[1] !== "alice"
        ? "192.0.2.1"
        : "127.0.0.1";
      const result = await run(server, [
        "explain",
        "--config",
        EXAMPLE,
        "--client",
        client,
        ...args,
      ]);
      assert.equal(result.stdout, stdout, args.join(" "));
      assert.equal(result.code, code, args.join(" "));
    }
  },
});

serverTest({
  name:
    "passwd reads the password from stdin and writes a line the server accepts",
  async fn(_t, server) {
    const { code, stdout } = await run(
      server,
      ["passwd", "erin"],
      "erin pw:1\n",
    );
    assert.equal(code, 0);
    assert.match(stdout, /^erin:\$scrypt\$ln=14,r=8,p=1\$[^$]+\$[^$]+\n$/);
    const hash = stdout.trim().slice("erin:".length);
    assert.equal(
      await verifyPasswordHash(new TextEncoder().encode("erin pw:1"), hash),
      true,
    );
    const bcrypt = await run(
      server,
      ["passwd", "erin", "--scheme", "bcrypt"],
      "x\n",
    );
    assert.match(bcrypt.stdout, /^erin:\$2a\$10\$/);
    const usage = await run(server, ["passwd"]);
    assert.equal(usage.code, 2);

    // The server takes the hashed line from a users file.
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/users`, stdout);
      await using target = echoTarget();
      await using proxy = await ServerProcess.start({
        server,
        args: ["--users-file", `${dir}/users`],
      });
      for (let i = 0; i < 3; i++) {
        const { conn } = await connect(
          { host: "127.0.0.1", port: target.addr.port },
          {
            proxy: { hostname: "127.0.0.1", port: proxy.port },
            auth: { username: "erin", password: "erin pw:1" },
          },
        );
        conn.close();
      }
      await assert.rejects(
        connect(
          { host: "127.0.0.1", port: target.addr.port },
          {
            proxy: { hostname: "127.0.0.1", port: proxy.port },
            auth: { username: "erin", password: "wrong" },
          },
        ),
      );
      await proxy.waitForSession({ user: "erin", reply: 0 });
      assert.ok(!proxy.log.includes("plaintext"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

serverTest({
  name: "passwd at a terminal prompts on it and does not echo the password",
  async fn(_t, server) {
    const line = commandLine(server, ["passwd", "tina"]);
    const quoted = [line.program, ...line.args]
      .map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
    // script(1) runs the command on a new pseudo-terminal.
    const child = new Deno.Command("script", {
      args: ["-qec", quoted, "/dev/null"],
      cwd: REPO_ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    // Keys typed before the program switched the terminal to raw mode would
    // be echoed by the terminal itself: type after the prompt.
    while (!text.includes("Password for tina: ")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("tty-secret\r"));
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await writer.close().catch(() => {});
    const { code } = await child.status;
    await child.stderr.cancel();

    assert.equal(code, 0, text);
    assert.match(text, /^Password for tina: /);
    assert.equal(text.includes("tty-secret"), false, "the password was echoed");
    const hash = /tina:(\$scrypt\$\S+)/.exec(text)![1]!;
    assert.equal(
      await verifyPasswordHash(new TextEncoder().encode("tty-secret"), hash),
      true,
    );
  },
});
