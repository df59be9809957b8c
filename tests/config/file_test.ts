import assert from "node:assert/strict";
import { parseCli } from "../../src/config/cli.ts";
import { configKey, parseConfigFile } from "../../src/config/file.ts";
import { OPTIONS } from "../../src/config/options.ts";
import { UserCredentials } from "../../src/auth/user_credentials.ts";
import { AccessRules } from "../../src/policy/access_rules.ts";
import { toSocksAddress } from "../../src/protocol/address.ts";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, ROOT));

Deno.test("the example config loads, with its rules, limits and hashed users", async () => {
  const config = await parseCli(
    ["--config", "examples/socks5-deno.yaml"],
    read,
  );
  assert.equal(config.configPath, "examples/socks5-deno.yaml");
  assert.deepStrictEqual(config.warnings, []);
  const serve = config.serve;
  assert.deepStrictEqual(serve.listen, [
    { hostname: "127.0.0.1", port: 1080 },
    { hostname: "::1", port: 1080 },
  ]);
  assert.equal(config.logFormat, "json");
  assert.equal(serve.maxSessions, 10_000);
  assert.deepStrictEqual(serve.limits, {
    authFailuresPerMinute: 30,
    sessionsPerUser: 50,
    sessionsPerClient: 100,
    connRatePerClient: 200,
    userDownload: 10 * 1024 * 1024,
    sessionUpload: 2 * 1024 * 1024,
  });
  assert.deepStrictEqual(serve.groups, { staff: ["alice", "bob"] });
  assert.deepStrictEqual(serve.rules!.map((r) => r.name), [
    "no-smtp",
    "staff-web",
    "lab",
    "partner-via-upstream",
  ]);
  // Scalars became lists.
  assert.deepStrictEqual(serve.rules![0]!.port, [25]);
  const rules = new AccessRules(serve.rules!, serve.groups);
  const bob = {
    client: { hostname: "192.0.2.1", port: 1 },
    user: "bob",
    command: "connect" as const,
    destination: toSocksAddress("example.com", 8080),
  };
  assert.equal(rules.decide(bob, null).rule, "staff-web");
  // The example users file documents its passwords; each hash verifies.
  const users = new UserCredentials(serve.users!);
  assert.equal(users.hashedCount, 3);
  for (const name of ["alice", "bob", "carol"]) {
    assert.equal(
      await users.verify(name, new TextEncoder().encode(`${name}-pw`)),
      true,
      name,
    );
  }
});

Deno.test("flags given with --config override the file's values", async () => {
  const files: Record<string, string> = {
    "/c.yaml": "listen: [127.0.0.1:1, 127.0.0.1:2]\nlog-level: debug\n" +
      "limits:\n  max-sessions: 5\n  max-sessions-per-user: 2\n",
  };
  const config = await parseCli(
    ["--config", "/c.yaml", "--listen", "127.0.0.1:3", "--max-sessions", "9"],
    (path) => Promise.resolve(files[path]!),
  );
  assert.deepStrictEqual(config.serve.listen, [{
    hostname: "127.0.0.1",
    port: 3,
  }]);
  assert.equal(config.serve.maxSessions, 9);
  assert.equal(config.logLevel, "debug");
  assert.equal(config.serve.limits!.sessionsPerUser, 2);
});

Deno.test("parseConfigFile() reports every problem with its line, key and value", () => {
  const cases: Array<[string, string[]]> = [
    ["listen: [\n", ["/f.yaml:2: not valid YAML"]],
    ["workers: [1, 2]\n", [
      "/f.yaml:1: workers: expected a string or a number, got [1,2]",
    ]],
    ["allow-open-proxy: yes please\n", [
      '/f.yaml:1: allow-open-proxy: expected boolean, received string, got "yes please"',
    ]],
    ["lsten: 1\nlimits:\n  max-sesions: 3\n", [
      "/f.yaml:1: lsten: unknown key",
      "/f.yaml:3: limits.max-sesions: unknown key",
    ]],
    ["rules:\n  - action: allow\n    prot: 1\n", [
      "/f.yaml:3: rules[0].prot: unknown key",
    ]],
    ["groups:\n  staff: alice\n", [
      '/f.yaml:2: groups.staff: expected array, received string, got "alice"',
    ]],
  ];
  for (const [text, expected] of cases) {
    let problems: readonly string[] = [];
    try {
      parseConfigFile(text, "/f.yaml");
    } catch (error) {
      problems = (error as { problems: readonly string[] }).problems;
    }
    assert.equal(problems.length, expected.length, `${text}: ${problems}`);
    expected.forEach((prefix, i) =>
      assert.ok(problems[i]!.startsWith(prefix), `${problems[i]} vs ${prefix}`)
    );
  }
});

Deno.test("configKey() gives every option but --config a key, Limits under limits.", () => {
  for (const option of OPTIONS) {
    const key = configKey(option);
    if (option.flag === "config") assert.equal(key, null);
    else if (option.section === "Limits") {
      assert.equal(key, `limits.${option.flag}`);
    } else assert.equal(key, option.flag);
  }
});
