import assert from "node:assert/strict";
import {
  createLogger,
  LOG_LEVELS,
  type LoggerOptions,
  type LogLevel,
  silentLogger,
} from "../../src/observability/logger.ts";

const NOW = new Date("2024-05-06T07:08:09.123Z");

function capture(options: Omit<LoggerOptions, "write"> = {}) {
  const lines: string[] = [];
  const logger = createLogger({
    now: () => NOW,
    ...options,
    write: (line) => lines.push(line),
  });
  return { logger, lines };
}

Deno.test("createLogger() writes TIME LEVEL message key=value when the format is text", () => {
  const { logger, lines } = capture();
  logger.log("info", "listening", { address: "127.0.0.1:1080", port: 1080 });
  logger.log("warn", "draining", { sessions: 3, graceful: true });
  logger.log("error", "stopped");
  assert.deepStrictEqual(lines, [
    "2024-05-06T07:08:09.123Z INFO  listening address=127.0.0.1:1080 port=1080",
    "2024-05-06T07:08:09.123Z WARN  draining sessions=3 graceful=true",
    "2024-05-06T07:08:09.123Z ERROR stopped",
  ]);
});

Deno.test("createLogger() quotes text values when they are not bare in the text format", async (t) => {
  const cases: Array<[string, string | number | boolean | null, string]> = [
    ["bare name", "example.org", "v=example.org"],
    ["bracketed IPv6", "[2001:db8::1]:443", "v=[2001:db8::1]:443"],
    ["user@host/path+x", "a@b/c+d-e_f", "v=a@b/c+d-e_f"],
    ["space", "connection refused", 'v="connection refused"'],
    ["quote", 'say "hi"', 'v="say \\"hi\\""'],
    ["equals sign", "a=b", 'v="a=b"'],
    ["empty string", "", 'v=""'],
    ["non-ASCII", "bücher", 'v="bücher"'],
    ["number", 42.5, "v=42.5"],
    ["boolean", false, "v=false"],
    ["null", null, "v=null"],
    ["numeric text", "42", "v=42"],
    ["the text null, unlike null", "null", 'v="null"'],
  ];
  for (const [name, value, text] of cases) {
    await t.step(name, () => {
      const { logger, lines } = capture();
      logger.log("info", "e", { v: value });
      assert.deepStrictEqual(lines, [
        `2024-05-06T07:08:09.123Z INFO  e ${text}`,
      ]);
    });
  }
});

Deno.test("createLogger() leaves out fields when their value is undefined", () => {
  const { logger, lines } = capture();
  logger.log("info", "session", { user: undefined, reply: 0 });
  assert.deepStrictEqual(lines, [
    "2024-05-06T07:08:09.123Z INFO  session reply=0",
  ]);
});

Deno.test("createLogger() writes one JSON object per line when the format is json", () => {
  const { logger, lines } = capture({ format: "json" });
  logger.log("info", "session", {
    client: "127.0.0.1:5555",
    reply: 0,
    ok: true,
    user: null,
    skipped: undefined,
  });
  logger.log("debug", "hidden");
  logger.log("error", "stopped");
  assert.deepStrictEqual(lines, [
    '{"ts":"2024-05-06T07:08:09.123Z","level":"info","msg":"session","client":"127.0.0.1:5555","reply":0,"ok":true,"user":null}',
    '{"ts":"2024-05-06T07:08:09.123Z","level":"error","msg":"stopped"}',
  ]);
});

Deno.test("createLogger() redacts a value when its key looks secret, in every format", async (t) => {
  const fields = {
    password: "hunter2",
    passwd: "hunter2",
    userPassword: "hunter2",
    secret: "hunter2",
    apiToken: "hunter2",
    CREDENTIALS: "hunter2",
    user: "alice",
  };
  await t.step("text", () => {
    const { logger, lines } = capture();
    logger.log("info", "auth", fields);
    assert.deepStrictEqual(lines, [
      "2024-05-06T07:08:09.123Z INFO  auth password=[redacted] passwd=[redacted] userPassword=[redacted] secret=[redacted] apiToken=[redacted] CREDENTIALS=[redacted] user=alice",
    ]);
  });
  await t.step("json", () => {
    const { logger, lines } = capture({ format: "json" });
    logger.log("info", "auth", fields);
    assert.deepStrictEqual(lines, [
      '{"ts":"2024-05-06T07:08:09.123Z","level":"info","msg":"auth","password":"[redacted]","passwd":"[redacted]","userPassword":"[redacted]","secret":"[redacted]","apiToken":"[redacted]","CREDENTIALS":"[redacted]","user":"alice"}',
    ]);
    assert.ok(!lines[0]!.includes("hunter2"));
  });
});

Deno.test("createLogger() writes one line when a username holds a newline", async (t) => {
  const forged = "alice\n2024-05-06T07:08:09.123Z INFO  session user=admin";
  const names: Array<[string, string]> = [
    ["LF", forged],
    ["CRLF", forged.replace("\n", "\r\n")],
    ["CR", forged.replace("\n", "\r")],
    ["escape sequence", "alice\x1b[2K\rroot"],
  ];
  for (const format of ["text", "json"] as const) {
    for (const [name, user] of names) {
      await t.step(`${format}, ${name}`, () => {
        const { logger, lines } = capture({ format });
        logger.log("info", "session", { user, reply: 0 });
        assert.equal(lines.length, 1);
        // deno-lint-ignore no-control-regex
        assert.doesNotMatch(lines[0]!, /[\x00-\x1f]/);
        if (format === "json") {
          assert.equal(JSON.parse(lines[0]!).user, user);
        } else {
          assert.ok(lines[0]!.includes(` user=${JSON.stringify(user)} `));
        }
      });
    }
  }
});

Deno.test("createLogger() keeps only lines at or above the level when given one", async (t) => {
  for (const level of LOG_LEVELS) {
    await t.step(level, () => {
      const { logger, lines } = capture({ level });
      for (const each of LOG_LEVELS) logger.log(each, each);
      const kept = LOG_LEVELS.slice(LOG_LEVELS.indexOf(level));
      assert.deepStrictEqual(
        lines.map((l) => l.split(" ").at(-1)),
        kept,
      );
      assert.deepStrictEqual(
        LOG_LEVELS.map((each) => logger.enabled(each)),
        LOG_LEVELS.map((each) => kept.includes(each)),
      );
    });
  }
});

Deno.test("createLogger() keeps info and above when no level is given", () => {
  const { logger, lines } = capture();
  assert.equal(logger.enabled("debug"), false);
  assert.equal(logger.enabled("info"), true);
  logger.log("debug", "hidden", { x: 1 });
  assert.deepStrictEqual(lines, []);
});

Deno.test("createLogger() reads the clock for every line when given one", () => {
  let ms = Date.UTC(2024, 0, 1);
  const lines: string[] = [];
  const logger = createLogger({
    write: (line) => lines.push(line),
    now: () => new Date(ms += 1000),
  });
  logger.log("info", "a");
  logger.log("info", "b");
  assert.deepStrictEqual(lines, [
    "2024-01-01T00:00:01.000Z INFO  a",
    "2024-01-01T00:00:02.000Z INFO  b",
  ]);
});

Deno.test("createLogger() throws RangeError when the level is unknown", () => {
  assert.throws(
    () => createLogger({ write: () => {}, level: "trace" as LogLevel }),
    { name: "RangeError", message: 'Unknown log level "trace"' },
  );
});

Deno.test("silentLogger drops everything when logged to", () => {
  for (const level of LOG_LEVELS) {
    assert.equal(silentLogger.enabled(level), false);
  }
  silentLogger.log("error", "nothing", { password: "x" });
});
