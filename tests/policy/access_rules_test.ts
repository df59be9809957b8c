import assert from "node:assert/strict";
import { connect, udpAssociate } from "../../src/mod.ts";
import {
  type AccessRule,
  AccessRules,
  checkProxyUrl,
  parsePortRange,
} from "../../src/policy/access_rules.ts";
import type { RuleRequest } from "../../src/policy/ruleset.ts";
import { toSocksAddress } from "../../src/protocol/address.ts";
import type { Resolver } from "../../src/outbound/resolver.ts";
import { Reply } from "../../src/protocol/constants.ts";
import { SocksError } from "../../src/protocol/errors.ts";
import { failingOutbound } from "../_helpers/failing_outbound.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { echoTarget, udpEchoTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";

function request(
  host: string,
  port: number,
  extra: Partial<RuleRequest> = {},
): RuleRequest {
  return {
    client: { hostname: "10.0.0.7", port: 40000 },
    user: "alice",
    command: "connect",
    destination: toSocksAddress(host, port),
    ...extra,
  };
}

const RULES: AccessRule[] = [
  { name: "no-smtp", action: "deny", port: [25] },
  {
    name: "staff-web",
    action: "allow",
    group: ["staff"],
    command: ["connect"],
    port: [80, "443", "8000-8999"],
  },
  {
    name: "lab",
    action: "allow",
    client: ["10.9.0.0/16"],
    to: ["192.0.2.0/24"],
    domain: ["lab.example"],
  },
  { name: "corp-glob", action: "allow", glob: ["*.corp.example"] },
  {
    name: "partner",
    action: "allow",
    user: ["carol"],
    host: ["api.partner.example"],
    via: ["socks5://127.0.0.1:1081"],
  },
];

Deno.test("AccessRules.decide() picks the first matching rule, by every field", () => {
  const rules = new AccessRules(RULES, { staff: ["alice", "bob"] });
  const lab = { client: { hostname: "10.9.0.1", port: 1 }, user: "dave" };
  const cases: Array<[RuleRequest, string | null, boolean, string]> = [
    [request("198.51.100.1", 25), null, false, "no-smtp"],
    [request("example.com", 443), null, true, "staff-web"],
    [request("example.com", 8500), null, true, "staff-web"],
    [request("example.com", 9000, { user: "dave" }), null, false, "default"],
    // bob is staff too (group), but bind is not a listed command.
    [
      request("example.com", 443, { user: "bob", command: "bind" }),
      null,
      false,
      "default",
    ],
    [request("LAB.example.", 22, lab), null, true, "lab"],
    [request("a.b.lab.example", 22, lab), null, true, "lab"],
    [request("notlab.example", 22, { user: "dave" }), null, false, "default"],
    [request("192.0.2.9", 22, lab), null, true, "lab"],
    [
      request("192.0.2.9", 22, {
        user: "dave",
        client: { hostname: "172.16.0.1", port: 1 },
      }),
      null,
      false,
      "default",
    ],
    [request("x.corp.example", 22, { user: null }), null, true, "corp-glob"],
    [request("corp.example", 22, { user: null }), null, false, "default"],
    [
      request("api.partner.example", 22, { user: "carol" }),
      null,
      true,
      "partner",
    ],
    // A resolved address decides the name's verdict by CIDR.
    [request("x.example", 22, lab), "192.0.2.1", true, "lab"],
    [
      request("x.example", 22, lab),
      "203.0.113.1",
      false,
      "default",
    ],
  ];
  for (const [req, address, allow, rule] of cases) {
    const decision = rules.decide(req, address);
    assert.deepStrictEqual(
      [decision.allow, decision.rule],
      [allow, rule],
      `${req.user} ${req.command} ${req.destination.host}:${req.destination.port} ${address}`,
    );
  }
  assert.deepStrictEqual(
    rules.decide(request("api.partner.example", 22, { user: "carol" }), null)
      .via,
    ["socks5://127.0.0.1:1081"],
  );
});

Deno.test("AccessRules.permits() lets a name through when an address rule may still allow it, and records the rule", () => {
  const rules = new AccessRules([
    { name: "net", action: "allow", to: ["192.0.2.0/24"] },
    { name: "evil", action: "deny", domain: ["evil.example"] },
  ]);
  const req = request("www.evil.example", 443);
  // "net" comes first and needs the address: the lookup may go ahead.
  assert.equal(rules.permits(req), true);
  assert.equal(req.matchedRule, "net");
  assert.equal(rules.permitsAddress(req, "192.0.2.5"), true);
  assert.equal(req.matchedRule, "net");
  assert.equal(rules.permitsAddress(req, "198.51.100.5"), false);
  assert.equal(req.matchedRule, "evil");
  // A UDP association is judged without its destination; its datagrams
  // with theirs.
  const association = request("0.0.0.0", 0, { command: "udp_associate" });
  assert.equal(
    new AccessRules([{ action: "allow", to: ["192.0.2.0/24"] }])
      .permits(association),
    true,
  );
  assert.equal(
    new AccessRules([{ action: "allow", to: ["192.0.2.0/24"] }]).permits({
      ...association,
      destination: toSocksAddress("198.51.100.1", 53),
      datagram: true,
    }),
    false,
  );
});

Deno.test("AccessRules rejects bad CIDRs, ports, groups and proxy URLs, naming the rule", () => {
  const cases: Array<[AccessRule, RegExp]> = [
    [
      { name: "a", action: "allow", to: ["10.0.0.0/99"] },
      /Rule "a", to: expected a CIDR block, got "10\.0\.0\.0\/99"/,
    ],
    [
      { action: "allow", client: ["nonsense"] },
      /Rule "rule 1", client: expected a CIDR/,
    ],
    [
      { name: "p", action: "allow", port: ["9-1"] },
      /Rule "p", port: Expected a port or a range like 8000-8999, got "9-1"/,
    ],
    [
      { name: "g", action: "allow", group: ["nope"] },
      /Rule "g", group: unknown group "nope"/,
    ],
    [
      { name: "v", action: "allow", via: ["ftp://x:1"] },
      /Rule "v", via: Upstream protocol "ftp" is not one of/,
    ],
    [
      { name: "s", action: "allow", source: "eth0" },
      /Rule "s", source: expected an IP address, got "eth0"/,
    ],
  ];
  for (const [rule, pattern] of cases) {
    assert.throws(() => new AccessRules([rule]), pattern);
  }
  assert.deepStrictEqual(parsePortRange("8000-8999"), [8000, 8999]);
  assert.deepStrictEqual(parsePortRange(443), [443, 443]);
  assert.throws(() => parsePortRange("70000"), RangeError);
  checkProxyUrl("socks5://[::1]:1080");
  checkProxyUrl("http://proxy.example:3128");
  assert.throws(() => checkProxyUrl("gopher://host:70"), RangeError);
  // Credentials never reach the message.
  assert.throws(
    () => checkProxyUrl("ftp://alice:s3cret@host:21"),
    (error: Error) => !error.message.includes("s3cret"),
  );
});

/** A resolver that records every name it is asked. */
function recordingResolver(answer: string[]): Resolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolve(name) {
      asked.push(name);
      return Promise.resolve(answer);
    },
  };
}

Deno.test("a denied name is answered REP 02 before any lookup, and the access log names the rule", async () => {
  const resolver = recordingResolver(["127.0.0.1"]);
  await using target = echoTarget();
  await using s = await startServer({
    resolver,
    rules: [
      { name: "no-ads", action: "deny", domain: ["ads.example"] },
      { name: "rest", action: "allow" },
    ],
  });
  using client = await RawClient.open(s.addr);
  const name = new TextEncoder().encode("x.ads.example");
  await client.send(
    Uint8Array.of(5, 1, 0, 5, 1, 0, 3, name.length, ...name, 0, 80),
  );
  assert.equal(await client.readHex(2), "05 00");
  assert.equal(await client.readHex(10), "05 02 00 01 00 00 00 00 00 00");
  const [line] = await s.sessions(1);
  assert.equal(line!.rule, "no-ads");
  assert.equal(line!.reply, 2);
  assert.deepStrictEqual(resolver.asked, []);
  // An allowed name resolves and connects.
  const { conn } = await connect({
    host: "allowed.example",
    port: target.addr.port,
  }, { proxy: s.addr });
  conn.close();
  assert.deepStrictEqual(resolver.asked, ["allowed.example"]);
  const lines = await s.sessions(2);
  assert.equal(lines[1]!.rule, "rest");
});

Deno.test("rules are checked again on every resolved address", async () => {
  // The name is allowed only by CIDR; it resolves outside, then inside.
  const rules: AccessRule[] = [
    { name: "loop", action: "allow", to: ["127.0.0.0/8"] },
  ];
  await using target = echoTarget();
  {
    await using s = await startServer({
      resolver: recordingResolver(["192.0.2.1"]),
      rules,
    });
    await assert.rejects(
      connect({ host: "a.example", port: target.addr.port }, { proxy: s.addr }),
      /not allowed/,
    );
    assert.equal((await s.sessions(1))[0]!.rule, "default");
  }
  await using s = await startServer({
    resolver: recordingResolver(["192.0.2.1", "127.0.0.1"]),
    rules,
  });
  const { conn } = await connect({
    host: "a.example",
    port: target.addr.port,
  }, { proxy: s.addr });
  conn.close();
  assert.equal((await s.sessions(1))[0]!.rule, "loop");
});

Deno.test("rules are checked on every UDP datagram", async () => {
  using allowed = udpEchoTarget();
  using denied = udpEchoTarget();
  await using s = await startServer({
    rules: [
      {
        name: "deny-port",
        action: "deny",
        command: ["udp"],
        port: [denied.addr.port],
      },
      { name: "rest", action: "allow" },
    ],
  });
  const association = await udpAssociate({ proxy: s.addr });
  try {
    await association.send(Uint8Array.of(1), {
      host: "127.0.0.1",
      port: denied.addr.port,
    });
    await association.send(Uint8Array.of(2), {
      host: "127.0.0.1",
      port: allowed.addr.port,
    });
    const answer = await association.receive();
    assert.deepStrictEqual([...answer.data], [2]);
    assert.equal(answer.from.port, allowed.addr.port);
  } finally {
    association.close();
  }
  const dropped = () =>
    s.metrics.get("udp_dropped_total", "ruleset") as number | undefined;
  assert.equal(dropped(), 1);
});

/** BIND for anyone; returns the first reply's port and the client. */
async function bindAnyone(addr: Deno.NetAddr) {
  const client = await RawClient.open(addr);
  await client.send("05 01 00 05 02 00 01 00 00 00 00 00 00");
  assert.equal(await client.readHex(2), "05 00");
  const first = await client.read(10);
  assert.equal(first[1], 0x00);
  return { client, port: (first[8]! << 8) | first[9]! };
}

Deno.test("rules are checked on every BIND peer", async () => {
  // Peers may come only from 127.0.0.2; the test's peer is 127.0.0.1.
  {
    await using s = await startServer({
      timeouts: { bind: 300 },
      rules: [
        { name: "udp-only", action: "deny", to: ["127.0.0.1/32"] },
        {
          name: "peer",
          action: "allow",
          command: ["bind"],
          to: ["127.0.0.2/32"],
        },
      ],
    });
    const { client, port } = await bindAnyone(s.addr);
    using _client = client;
    using peer = await RawClient.open({
      hostname: "127.0.0.1",
      port,
      transport: "tcp",
    });
    assert.equal(await peer.closedByPeer(), true);
    assert.equal((await client.read(10))[1], 0x06);
    assert.ok(s.logs.some((l) => l.msg === "bind peer refused"));
  }
  await using s = await startServer({
    rules: [{ name: "peer", action: "allow", to: ["127.0.0.1/32"] }],
  });
  const { client, port } = await bindAnyone(s.addr);
  using _client = client;
  using peer = await RawClient.open({
    hostname: "127.0.0.1",
    port,
    transport: "tcp",
  });
  const second = await client.read(10);
  assert.equal(second[1], 0x00);
  await peer.send("2a");
  assert.equal(await client.readHex(1), "2a");
});

Deno.test("the deciding rule's via reaches the outbound request", async () => {
  const { outbound, requests } = failingOutbound(
    new SocksError(Reply.HOST_UNREACHABLE, "test"),
  );
  await using s = await startServer({
    outbound,
    rules: [
      {
        name: "up",
        action: "allow",
        domain: ["partner.example"],
        via: ["socks5://127.0.0.1:1081", "http://127.0.0.1:3128"],
      },
      { name: "direct", action: "allow" },
    ],
  });
  for (const host of ["api.partner.example", "other.example"]) {
    await assert.rejects(
      connect({ host, port: 443 }, { proxy: s.addr }),
      /host unreachable|0x04|4/i,
    );
  }
  assert.deepStrictEqual(requests.map((r) => r.via), [
    ["socks5://127.0.0.1:1081", "http://127.0.0.1:3128"],
    undefined,
  ]);
});

Deno.test("the deciding rule's source reaches the outbound request, in canonical form", async () => {
  const { outbound, requests } = failingOutbound(
    new SocksError(Reply.HOST_UNREACHABLE, "test"),
  );
  await using s = await startServer({
    outbound,
    rules: [
      {
        name: "from-v6",
        action: "allow",
        domain: ["partner.example"],
        source: "2001:DB8:0:0::7",
      },
      { name: "from-v4", action: "allow", port: [25], source: "192.0.2.7" },
      { name: "default-source", action: "allow" },
    ],
  });
  for (
    const [host, port] of [
      ["api.partner.example", 443],
      ["mail.example", 25],
      ["other.example", 443],
    ] as const
  ) {
    await assert.rejects(
      connect({ host, port }, { proxy: s.addr }),
      /host unreachable|0x04|4/i,
    );
  }
  assert.deepStrictEqual(requests.map((r) => r.source), [
    "2001:db8::7",
    "192.0.2.7",
    undefined,
  ]);
});
