import assert from "node:assert/strict";
import { parseCli, VERSION } from "../../src/config/cli.ts";
import { helpText } from "../../src/config/help.ts";
import type { CliConfig } from "../../src/config/options.ts";
import {
  parseDuration,
  parseHostPort,
  UsageError,
} from "../../src/config/values.ts";

/** A users file reader that must not be called. */
function noFiles(path: string): Promise<string> {
  return Promise.reject(new Error(`Unexpected read of ${path}`));
}

/** A users file reader over fixed files. */
function files(contents: Record<string, string>) {
  const reads: string[] = [];
  const read = (path: string) => {
    reads.push(path);
    return path in contents
      ? Promise.resolve(contents[path]!)
      : Promise.reject(new Deno.errors.NotFound(`No such file: ${path}`));
  };
  return { read, reads };
}

function parse(...args: string[]): Promise<CliConfig> {
  return parseCli(args, noFiles);
}

/** Asserts a UsageError whose message starts with the flag. */
async function assertUsage(
  promise: Promise<unknown>,
  flag: string,
  secret?: string,
): Promise<UsageError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof UsageError, String(caught));
  assert.equal(caught.name, "UsageError");
  assert.ok(
    caught.message.includes(flag),
    `${JSON.stringify(caught.message)} names ${flag}`,
  );
  assert.ok(!caught.message.includes("\n"), "one line");
  if (secret !== undefined) {
    assert.ok(
      !caught.message.includes(secret),
      `${JSON.stringify(caught.message)} leaks the password`,
    );
  }
  return caught;
}

Deno.test("parseCli() returns the defaults when given no flags", async () => {
  assert.deepStrictEqual(await parse(), {
    action: "serve",
    serve: {
      listen: [{ hostname: "127.0.0.1", port: 1080 }],
      allowOpenProxy: false,
      timeouts: {},
      limits: { authFailuresPerMinute: 30 },
    },
    logLevel: "info",
    logFormat: "text",
    graceMs: 10_000,
    metricsListen: null,
    adminListen: null,
    adminToken: null,
    metricsUserLabels: 100,
    accessLog: null,
    workers: 1,
    configPath: null,
    warnings: [],
  });
});

Deno.test("parseCli() returns help or version when asked", async (t) => {
  for (
    const [args, action] of [
      [["--help"], "help"],
      [["-h"], "help"],
      [["--version"], "version"],
      [["-V"], "version"],
      [["--listen", "127.0.0.1:1", "--help"], "help"],
    ] as const
  ) {
    await t.step(args.join(" "), async () => {
      const config = await parse(...args);
      assert.equal(config.action, action);
      assert.deepStrictEqual(config.serve, {});
    });
  }
  assert.match(
    helpText("socks5-deno"),
    new RegExp(`^socks5-deno ${VERSION.replaceAll(".", "\\.")}:`),
  );
});

Deno.test("parseCli() sets every option when every flag is given", async () => {
  const users = files({
    "/etc/socks/users": "# team\ncarol:c4rol\n",
    "/etc/socks/admin-token": "0123456789abcdef0123\n",
  });
  const config = await parseCli([
    "--listen=0.0.0.0:1080",
    "--listen",
    "[::1]:1081",
    "--user",
    "alice:s3cret",
    "--user=bob:pa:ss",
    "--users-file",
    "/etc/socks/users",
    "--gssapi-keytab",
    "/etc/socks/krb5.keytab",
    "--gssapi-service",
    "rcmd",
    "--gssapi-protection",
    "confidentiality, integrity,confidentiality",
    "--allow-open-proxy",
    "--destination-policy",
    "block-internal",
    "--allow-destination",
    "10.1.0.0/16",
    "--allow-destination",
    "fd00::/8",
    "--disable",
    "bind",
    "--disable",
    "udp",
    "--external-address",
    "203.0.113.7",
    "--handshake-timeout",
    "5s",
    "--connect-timeout",
    "1500ms",
    "--idle-timeout",
    "2h",
    "--bind-timeout",
    "30",
    "--udp-timeout",
    "1m",
    "--shutdown-grace",
    "0",
    "--max-sessions",
    "64",
    "--auth-failure-delay",
    "250ms",
    "--log-level",
    "debug",
    "--log-format",
    "json",
    "--access-log",
    "/var/log/socks5/access.log",
    "--admin",
    "[::1]:9101",
    "--admin-token-file",
    "/etc/socks/admin-token",
    "--metrics",
    "127.0.0.1:9100",
    "--metrics-user-labels",
    "5",
    "--workers",
    "4",
    "--auth-failures-per-minute",
    "5",
    "--max-sessions-per-user",
    "3",
    "--max-sessions-per-client",
    "7",
    "--max-conn-rate-per-client",
    "100",
    "--user-upload-rate",
    "1MiB",
    "--user-download-rate",
    "2MiB/s",
    "--session-upload-rate",
    "500k",
    "--session-download-rate",
    "65536",
  ], users.read);
  assert.deepStrictEqual(users.reads, [
    "/etc/socks/users",
    "/etc/socks/admin-token",
  ]);
  assert.deepStrictEqual(config, {
    action: "serve",
    serve: {
      listen: [
        { hostname: "0.0.0.0", port: 1080 },
        { hostname: "::1", port: 1081 },
      ],
      users: new Map([
        ["carol", "c4rol"],
        ["alice", "s3cret"],
        ["bob", "pa:ss"],
      ]),
      gssapi: {
        keytab: "/etc/socks/krb5.keytab",
        service: "rcmd",
        protection: [2, 1],
      },
      allowOpenProxy: true,
      blockInternalDestinations: true,
      allowDestinations: ["10.1.0.0/16", "fd00::/8"],
      commands: { connect: true, bind: false, udpAssociate: false },
      externalAddress: "203.0.113.7",
      timeouts: {
        handshake: 5_000,
        connect: 1_500,
        idle: 7_200_000,
        bind: 30_000,
        udp: 60_000,
      },
      authFailureDelay: 250,
      maxSessions: 64,
      limits: {
        authFailuresPerMinute: 5,
        sessionsPerUser: 3,
        sessionsPerClient: 7,
        connRatePerClient: 100,
        userUpload: 1_048_576,
        userDownload: 2_097_152,
        sessionUpload: 500_000,
        sessionDownload: 65_536,
      },
    },
    logLevel: "debug",
    logFormat: "json",
    graceMs: 0,
    metricsListen: { hostname: "127.0.0.1", port: 9100 },
    adminListen: { hostname: "::1", port: 9101 },
    adminToken: "0123456789abcdef0123",
    metricsUserLabels: 5,
    accessLog: "/var/log/socks5/access.log",
    workers: 4,
    configPath: null,
    warnings: [
      'The users file holds plaintext passwords ("carol"): hash them with "socks5-deno passwd NAME"',
    ],
  });
});

Deno.test("parseCli() reads --listen when given IPv6 in brackets, names and port 0", async (t) => {
  const cases: Array<[string, string, number]> = [
    ["[::1]:1080", "::1", 1080],
    ["[::]:0", "::", 0],
    ["[2001:db8::1]:65535", "2001:db8::1", 65535],
    ["localhost:1080", "localhost", 1080],
    ["0.0.0.0:0", "0.0.0.0", 0],
  ];
  for (const [text, hostname, port] of cases) {
    await t.step(text, async () => {
      const config = await parse("--listen", text);
      assert.deepStrictEqual(config.serve.listen, [{ hostname, port }]);
    });
  }
});

Deno.test("parseCli() lets a --user override the users file when both name the same user", async () => {
  const users = files({ "u.txt": "alice:old\n" });
  const config = await parseCli(
    ["--users-file", "u.txt", "--user", "alice:new"],
    users.read,
  );
  assert.deepStrictEqual(config.serve.users, new Map([["alice", "new"]]));
});

Deno.test("parseCli() maps --destination-policy when given each value", async (t) => {
  await t.step("auto", async () => {
    const config = await parse("--destination-policy", "auto");
    assert.equal("blockInternalDestinations" in config.serve, false);
  });
  await t.step("block-internal", async () => {
    const config = await parse("--destination-policy", "block-internal");
    assert.equal(config.serve.blockInternalDestinations, true);
  });
  await t.step("allow-all", async () => {
    const config = await parse("--destination-policy", "allow-all");
    assert.equal(config.serve.blockInternalDestinations, false);
  });
});

Deno.test("parseCli() disables each command when given --disable", async (t) => {
  const cases: Array<[string, object]> = [
    ["connect", { connect: false, bind: true, udpAssociate: true }],
    ["bind", { connect: true, bind: false, udpAssociate: true }],
    ["udp", { connect: true, bind: true, udpAssociate: false }],
  ];
  for (const [name, commands] of cases) {
    await t.step(name, async () => {
      assert.deepStrictEqual(
        (await parse("--disable", name)).serve.commands,
        commands,
      );
    });
  }
});

Deno.test("parseCli() accepts each log level when given --log-level", async () => {
  for (const level of ["debug", "info", "warn", "error"]) {
    assert.equal((await parse("--log-level", level)).logLevel, level);
  }
});

Deno.test("parseCli() throws UsageError naming the flag when a value is bad", async (t) => {
  const cases: Array<[string, string[]]> = [
    ["--listen", ["--listen", "1080"]],
    ["--listen", ["--listen", "::1:1080"]],
    ["--listen", ["--listen", "127.0.0.1:65536"]],
    ["--listen", ["--listen", "127.0.0.1:"]],
    ["--listen", ["--listen", ":1080"]],
    ["--listen", ["--listen", "[::1]"]],
    ["--listen", ["--listen", "127.0.0.1:-1"]],
    ["--listen", ["--listen"]],
    ["--destination-policy", ["--destination-policy", "none"]],
    ["--allow-destination", ["--allow-destination", "10.0.0.0"]],
    ["--allow-destination", ["--allow-destination", "10.0.0.0/33"]],
    ["--allow-destination", ["--allow-destination", "example.org/8"]],
    ["--disable", ["--disable", "udp_associate"]],
    ["--handshake-timeout", ["--handshake-timeout", "soon"]],
    ["--connect-timeout", ["--connect-timeout", "-1s"]],
    ["--idle-timeout", ["--idle-timeout", "1d"]],
    ["--bind-timeout", ["--bind-timeout", ""]],
    ["--udp-timeout", ["--udp-timeout", "1 m"]],
    ["--shutdown-grace", ["--shutdown-grace", "10sec"]],
    ["--auth-failure-delay", ["--auth-failure-delay", "fast"]],
    ["--max-sessions", ["--max-sessions", "0"]],
    ["--max-sessions", ["--max-sessions", "-5"]],
    ["--max-sessions", ["--max-sessions", "1e3"]],
    ["--max-sessions", ["--max-sessions", "010"]],
    ["--workers", ["--workers", "0"]],
    ["--workers", ["--workers", "two"]],
    ["--log-level", ["--log-level", "trace"]],
    ["--log-level", ["--log-level", "INFO"]],
    ["--log-format", ["--log-format", "xml"]],
    ["--metrics", ["--metrics", "9100"]],
    ["--users-file", ["--users-file"]],
    ["--allow-open-proxy", ["--allow-open-proxy=yes"]],
    ["--frobnicate", ["--frobnicate"]],
  ];
  for (const [flag, args] of cases) {
    await t.step(args.join(" "), async () => {
      await assertUsage(parse(...args), flag);
    });
  }
});

Deno.test("parseCli() quotes the bad value when it is not a secret", async () => {
  const error = await assertUsage(parse("--log-format", "xml"), "--log-format");
  assert.equal(
    error.message,
    '--log-format: expected text or json, got "xml"',
  );
  const listen = await assertUsage(parse("--listen", "nope"), "--listen");
  assert.equal(
    listen.message,
    '--listen: expected HOST:PORT (IPv6 as [ADDR]:PORT), got "nope"',
  );
});

Deno.test("parseCli() keeps the password out of the message when --user is bad", async (t) => {
  const password = "hunter2-SECRET";
  const cases: Array<[string, string[]]> = [
    ["no colon", ["--user", password]],
    ["empty name", ["--user", `:${password}`]],
    ["empty password", ["--user", `${password}:`]],
    ["password too long", ["--user", `alice:${password}${"x".repeat(250)}`]],
    ["value starting with a dash", ["--user", `-${password}`]],
    ["password as a stray argument", ["--user", "alice", `:${password}`]],
    ["password after a boolean flag", ["--allow-open-proxy", password]],
  ];
  for (const [name, args] of cases) {
    await t.step(name, async () => {
      const error = await assertUsage(parse(...args), "", password);
      assert.ok(/--user|User|argument/.test(error.message), error.message);
    });
  }
});

Deno.test("parseCli() names the user when a name or password is too long", async () => {
  const error = await assertUsage(
    parse("--user", `alice:${"p".repeat(256)}`),
    "alice",
    "p".repeat(10),
  );
  assert.equal(
    error.message,
    'User "alice": name and password must be at most 255 bytes',
  );
});

Deno.test("parseCli() throws UsageError without the password when the users file is bad", async (t) => {
  await t.step("unreadable", async () => {
    const users = files({});
    await assertUsage(
      parseCli(["--users-file", "/nope"], users.read),
      "--users-file",
    );
  });
  await t.step("malformed line", async () => {
    const users = files({ "u.txt": "alice:ok\nbob-no-colon-SECRET\n" });
    const error = await assertUsage(
      parseCli(["--users-file", "u.txt"], users.read),
      "--users-file",
      "SECRET",
    );
    assert.match(error.message, /Line 2/);
  });
  await t.step("repeated user", async () => {
    const users = files({ "u.txt": "alice:one-SECRET\nalice:two-SECRET\n" });
    const error = await assertUsage(
      parseCli(["--users-file", "u.txt"], users.read),
      "--users-file",
      "SECRET",
    );
    assert.match(error.message, /Line 2/);
  });
});

Deno.test("parseHostPort() returns hostname and port when given HOST:PORT", async (t) => {
  const cases: Array<[string, string, number]> = [
    ["127.0.0.1:1080", "127.0.0.1", 1080],
    ["[::1]:0", "::1", 0],
    ["[fe80::1]:65535", "fe80::1", 65535],
    ["example.org:80", "example.org", 80],
    ["host:00080", "host", 80],
  ];
  for (const [text, hostname, port] of cases) {
    await t.step(text, () => {
      assert.deepStrictEqual(parseHostPort(text, "--x"), { hostname, port });
    });
  }
});

Deno.test("parseHostPort() throws UsageError naming the flag when the text is not HOST:PORT", async (t) => {
  for (
    const text of [
      "",
      "host",
      "host:",
      ":80",
      "::1:80",
      "[::1]",
      "[::1]80",
      "[]:80",
      "host:65536",
      "host:123456",
      "host:8o",
      "host:80 ",
      "a:b:80",
    ]
  ) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(() => parseHostPort(text, "--metrics"), {
        name: "UsageError",
        message: `--metrics: expected HOST:PORT (IPv6 as [ADDR]:PORT), got ${
          JSON.stringify(text)
        }`,
      });
    });
  }
});

Deno.test("parseDuration() returns milliseconds when given a number with a unit", async (t) => {
  const cases: Array<[string, number]> = [
    ["0", 0],
    ["30", 30_000],
    ["1.5", 1_500],
    ["500ms", 500],
    ["0ms", 0],
    ["10s", 10_000],
    ["0.25s", 250],
    ["2m", 120_000],
    ["1h", 3_600_000],
    [" 5s ", 5_000],
    ["1.0005s", 1_001],
  ];
  for (const [text, ms] of cases) {
    await t.step(JSON.stringify(text), () => {
      assert.equal(parseDuration(text, "--x"), ms);
    });
  }
});

Deno.test("parseDuration() throws UsageError naming the flag when the text is not a duration", async (t) => {
  for (
    const text of [
      "",
      "s",
      "-1",
      "-1s",
      "1d",
      "1 s",
      "1S",
      "1e3",
      ".5s",
      "5.s",
      "abc",
    ]
  ) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(() => parseDuration(text, "--idle-timeout"), {
        name: "UsageError",
        message:
          `--idle-timeout: expected a duration like 500ms, 10s, 2m or 1h, got ${
            JSON.stringify(text)
          }`,
      });
    });
  }
});

Deno.test("parseCli() refuses --admin-token-file without echoing it when the token is short", async () => {
  const tokens = files({ "t": "hunter2\n" });
  const error = await parseCli(["--admin-token-file", "t"], tokens.read)
    .then(() => null, (e) => e);
  assert.ok(error instanceof UsageError);
  assert.match(error.message, /^--admin-token-file: expected one token/);
  assert.doesNotMatch(error.message, /hunter2/);
});

Deno.test("parseCli() refuses --admin-token-file when no admin listener is set", async () => {
  const tokens = files({ "t": "0123456789abcdef0123\n" });
  await assert.rejects(
    () => parseCli(["--admin-token-file", "t"], tokens.read),
    (error: Error) =>
      error instanceof UsageError &&
      error.message === "--admin-token-file: needs --admin (or --metrics)",
  );
});

Deno.test("parseCli() refuses GSS-API flags when keytab or service is missing or a level is unknown", async () => {
  await assert.rejects(parse("--gssapi-keytab", "/k"), {
    name: "UsageError",
    message: "GSS-API needs both --gssapi-keytab and --gssapi-service",
  });
  await assert.rejects(parse("--gssapi-service", "rcmd"), {
    message: "GSS-API needs both --gssapi-keytab and --gssapi-service",
  });
  await assert.rejects(
    parse("--gssapi-protection", "none", "--gssapi-service", "rcmd"),
    { message: "GSS-API needs both --gssapi-keytab and --gssapi-service" },
  );
  await assert.rejects(
    parse("--gssapi-keytab", "/k", "--gssapi-service", "rcmd/host"),
    {
      message: '--gssapi-service: expected a name like rcmd, got "rcmd/host"',
    },
  );
  await assert.rejects(
    parse(
      "--gssapi-keytab",
      "/k",
      "--gssapi-service",
      "r",
      "--gssapi-protection",
      "full",
    ),
    {
      message:
        '--gssapi-protection: expected none, integrity or confidentiality, got "full"',
    },
  );
  const config = await parse(
    "--gssapi-keytab",
    "/k",
    "--gssapi-service",
    "rcmd",
  );
  assert.deepStrictEqual(config.serve.gssapi, {
    keytab: "/k",
    service: "rcmd",
  });
});
