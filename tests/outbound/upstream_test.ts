import assert from "node:assert/strict";
import { bind, connect, udpAssociate } from "../../src/mod.ts";
import { SocksError } from "../../src/protocol/errors.ts";
import { Reply } from "../../src/protocol/constants.ts";
import { RoutedOutbound } from "../../src/outbound/route.ts";
import { denoNetwork } from "../../src/runtime/deno/network.ts";
import { echoThrough, readExactly } from "../_helpers/echo_through.ts";
import { startServer } from "../_helpers/test_server.ts";
import { echoTarget, payload, udpEchoTarget } from "../_helpers/targets.ts";
import {
  DANTED,
  MICROSOCKS,
  missing,
  startDante,
  startMicrosocks,
} from "../_helpers/third_party_socks.ts";
import { scriptedProxy } from "../_helpers/scripted_proxy.ts";

/** A resolver that fails the test if anyone asks it. */
const noLookups = {
  resolve(name: string): Promise<string[]> {
    return Promise.reject(new Error(`Resolved ${name} locally`));
  },
};

function rejectsWith(reply: number) {
  return (error: unknown) =>
    error instanceof SocksError && error.reply === reply;
}

Deno.test("CONNECT through a two-hop chain of the project itself relays byte-exact and the name reaches the last hop unresolved", async () => {
  await using target = echoTarget();
  const asked: string[] = [];
  await using last = await startServer({
    resolver: {
      resolve(name) {
        asked.push(name);
        return Promise.resolve(["127.0.0.1"]);
      },
    },
  });
  await using middle = await startServer({ resolver: noLookups });
  await using front = await startServer({
    resolver: noLookups,
    upstream: [
      `socks5://127.0.0.1:${middle.addr.port}`,
      `socks5://127.0.0.1:${last.addr.port}`,
    ],
  });
  await echoThrough(front.addr.port, "remote-dns.invalid", target.addr.port);
  assert.deepEqual(asked, ["remote-dns.invalid"]);
  const [line] = await last.sessions(1);
  assert.equal(line!.destination, `remote-dns.invalid:${target.addr.port}`);
  const [middleLine] = await middle.sessions(1);
  assert.equal(middleLine!.destination, `127.0.0.1:${last.addr.port}`);
});

Deno.test("An upstream's refusal passes its REP through, an unreachable first hop maps to 05", async () => {
  await using target = echoTarget();
  await using refusing = await startServer({
    ruleset: { permits: () => false, permitsAddress: () => false },
  });
  await using front = await startServer({
    upstream: [`socks5://127.0.0.1:${refusing.addr.port}`],
  });
  await assert.rejects(
    connect({ host: "127.0.0.1", port: target.addr.port }, {
      proxy: front.addr,
    }),
    rejectsWith(Reply.NOT_ALLOWED),
  );
  // A port nobody listens on: the closed target's.
  const closed = echoTarget();
  const closedPort = closed.addr.port;
  await closed.close();
  await using dead = await startServer({
    upstream: [`socks5://127.0.0.1:${closedPort}`],
  });
  await assert.rejects(
    connect({ host: "127.0.0.1", port: target.addr.port }, {
      proxy: dead.addr,
    }),
    rejectsWith(Reply.CONNECTION_REFUSED),
  );
});

Deno.test("Upstream credentials are sent to the hop and never logged", async () => {
  await using target = echoTarget();
  await using authed = await startServer({ users: { alice: "pa:ss@w0rd" } });
  await using front = await startServer({
    upstream: [
      `socks5://alice:${
        encodeURIComponent("pa:ss@w0rd")
      }@127.0.0.1:${authed.addr.port}`,
    ],
  });
  await echoThrough(front.addr.port, "127.0.0.1", target.addr.port);
  const [line] = await authed.sessions(1);
  assert.equal(line!.user, "alice");
  await front.sessions(1);
  assert.ok(!front.lines.join("\n").includes("pa:ss"));
  await using wrong = await startServer({
    upstream: [`socks5://alice:nope@127.0.0.1:${authed.addr.port}`],
  });
  await assert.rejects(
    connect({ host: "127.0.0.1", port: target.addr.port }, {
      proxy: wrong.addr,
    }),
    rejectsWith(Reply.NOT_ALLOWED),
  );
});

Deno.test("BIND through a SOCKS5 upstream reports its address and relays the peer", async () => {
  await using upstream = await startServer();
  await using front = await startServer({
    upstream: [`socks5://127.0.0.1:${upstream.addr.port}`],
  });
  const binding = await bind({ host: "0.0.0.0", port: 0 }, {
    proxy: front.addr,
  });
  try {
    assert.equal(binding.bound.host, "127.0.0.1");
    const peer = await Deno.connect({
      hostname: "127.0.0.1",
      port: binding.bound.port,
    });
    try {
      const from = await binding.peer;
      assert.equal(from.host, "127.0.0.1");
      assert.equal(from.port, (peer.localAddr as Deno.NetAddr).port);
      await peer.write(new TextEncoder().encode("from peer"));
      assert.equal(
        new TextDecoder().decode(await readExactly(binding.conn, 9)),
        "from peer",
      );
    } finally {
      peer.close();
    }
  } finally {
    binding.conn.close();
  }
});

Deno.test("UDP through a SOCKS5 upstream echoes byte-exact and names go unresolved", async () => {
  using echo = udpEchoTarget();
  const asked: string[] = [];
  await using upstream = await startServer({
    resolver: {
      resolve(name) {
        asked.push(name);
        return Promise.resolve(["127.0.0.1"]);
      },
    },
  });
  await using front = await startServer({
    resolver: noLookups,
    upstream: [`socks5://127.0.0.1:${upstream.addr.port}`],
  });
  using udp = await udpAssociate({ proxy: front.addr });
  const data = payload(1200, 7);
  await udp.send(data, { host: "udp-remote.invalid", port: echo.addr.port });
  const answer = await udp.receive();
  assert.deepEqual(answer.data, data);
  assert.equal(answer.from.host, "127.0.0.1");
  assert.equal(answer.from.port, echo.addr.port);
  assert.deepEqual(asked, ["udp-remote.invalid"]);
});

Deno.test("BIND and UDP through a non-SOCKS5 last hop are refused with REP 07", async () => {
  await using http = scriptedProxy("http", 200);
  await using front = await startServer({
    upstream: [`http://127.0.0.1:${http.port}`],
  });
  await assert.rejects(
    bind({ host: "0.0.0.0", port: 0 }, { proxy: front.addr }),
    rejectsWith(Reply.COMMAND_NOT_SUPPORTED),
  );
  await assert.rejects(
    udpAssociate({ proxy: front.addr }),
    rejectsWith(Reply.COMMAND_NOT_SUPPORTED),
  );
});

for (
  const [status, reply] of [
    [403, Reply.NOT_ALLOWED],
    [407, Reply.NOT_ALLOWED],
    [502, Reply.CONNECTION_REFUSED],
    [503, Reply.HOST_UNREACHABLE],
    [504, Reply.TTL_EXPIRED],
    [500, Reply.GENERAL_FAILURE],
  ] as const
) {
  Deno.test(`An HTTP upstream's ${status} maps to REP 0${reply}`, async () => {
    await using http = scriptedProxy("http", status);
    await using front = await startServer({
      upstream: [`http://u:p@127.0.0.1:${http.port}`],
    });
    await assert.rejects(
      connect({ host: "remote.invalid", port: 443 }, { proxy: front.addr }),
      rejectsWith(reply),
    );
    // The name went unresolved, with Basic credentials.
    assert.equal(
      http.requests[0],
      "CONNECT remote.invalid:443 HTTP/1.1\r\nHost: remote.invalid:443\r\n" +
        `Proxy-Authorization: Basic ${btoa("u:p")}\r\n\r\n`,
    );
  });
}

for (
  const [code, reply] of [
    [91, Reply.CONNECTION_REFUSED],
    [92, Reply.NOT_ALLOWED],
    [93, Reply.NOT_ALLOWED],
  ] as const
) {
  Deno.test(`A SOCKS4a upstream's ${code} maps to REP 0${reply}`, async () => {
    await using socks4 = scriptedProxy("socks4", code);
    await using front = await startServer({
      resolver: noLookups,
      upstream: [`socks4a://bob@127.0.0.1:${socks4.port}`],
    });
    await assert.rejects(
      connect({ host: "remote.invalid", port: 80 }, { proxy: front.addr }),
      rejectsWith(reply),
    );
    // 04 01 0050 00000001 "bob" 00 "remote.invalid" 00
    assert.equal(
      socks4.requests[0],
      "\x04\x01\x00\x50\x00\x00\x00\x01bob\x00remote.invalid\x00",
    );
  });
}

Deno.test("A chain through the project, an HTTP hop and a SOCKS4a hop relays byte-exact", async () => {
  await using target = echoTarget();
  await using http = scriptedProxy("http", 200);
  await using socks4 = scriptedProxy("socks4", 90);
  await using first = await startServer();
  await using front = await startServer({
    upstream: [
      `socks5://127.0.0.1:${first.addr.port}`,
      `http://127.0.0.1:${http.port}`,
      `socks4a://127.0.0.1:${socks4.port}`,
    ],
  });
  await echoThrough(front.addr.port, "localhost", target.addr.port);
  assert.equal(
    http.requests[0],
    `CONNECT 127.0.0.1:${socks4.port} HTTP/1.1\r\nHost: 127.0.0.1:${socks4.port}\r\n\r\n`,
  );
  assert.equal(
    socks4.requests[0],
    `\x04\x01${
      String.fromCharCode(target.addr.port >> 8, target.addr.port & 0xff)
    }\x00\x00\x00\x01\x00localhost\x00`,
  );
});

Deno.test({
  name:
    "CONNECT through microsocks and Dante as upstreams, and a chain of both",
  ignore: missing(MICROSOCKS) || missing(DANTED),
  async fn() {
    await using target = echoTarget();
    await using micro = await startMicrosocks({
      username: "m",
      password: "secret",
    });
    await using dante = await startDante();
    for (
      const chain of [
        [`socks5://m:secret@127.0.0.1:${micro.port}`],
        [`socks5://127.0.0.1:${dante.port}`],
        [`socks4://127.0.0.1:${dante.port}`],
        [
          `socks5://m:secret@127.0.0.1:${micro.port}`,
          `socks5://127.0.0.1:${dante.port}`,
        ],
      ]
    ) {
      await using front = await startServer({ upstream: chain });
      await echoThrough(front.addr.port, "127.0.0.1", target.addr.port);
    }
    // Dante 1.4 takes DSTIP 0.0.0.1 literally (no SOCKS4a names): its
    // rules refuse it with 91, which reaches the client as 05. A plain
    // socks4:// hop resolves the name here instead and gets through.
    await using front4a = await startServer({
      resolver: noLookups,
      upstream: [`socks4a://probe@127.0.0.1:${dante.port}`],
    });
    await assert.rejects(
      connect({ host: "localhost", port: target.addr.port }, {
        proxy: front4a.addr,
      }),
      rejectsWith(Reply.CONNECTION_REFUSED),
    );
    await using front4 = await startServer({
      upstream: [`socks4://probe@127.0.0.1:${dante.port}`],
    });
    await echoThrough(front4.addr.port, "localhost", target.addr.port);
  },
});

Deno.test("A request's via picks its chain: absent takes the default, empty goes direct", async () => {
  await using target = echoTarget();
  await using upstream = await startServer();
  const direct = {
    connect: () => Promise.reject(new SocksError(Reply.NOT_ALLOWED, "direct")),
    bind: () => Promise.reject(new Error("unused")),
    udp: () => Promise.reject(new Error("unused")),
  };
  const route = new RoutedOutbound({
    direct,
    upstream: [`socks5://127.0.0.1:${upstream.addr.port}`],
    network: denoNetwork,
    resolver: noLookups,
    ruleset: { permits: () => true, permitsAddress: () => true },
  });
  const request = (via?: string[]) => ({
    rule: {
      client: { hostname: "127.0.0.1", port: 1 },
      user: null,
      command: "connect" as const,
      destination: {
        type: 1 as const,
        host: "127.0.0.1",
        port: target.addr.port,
      },
    },
    local: { hostname: "127.0.0.1", port: 1080 },
    ...(via ? { via } : {}),
  });
  const signal = AbortSignal.timeout(5_000);
  (await route.connect(request(), signal)).close();
  (await route.connect(
    request([`socks5://127.0.0.1:${upstream.addr.port}`]),
    signal,
  )).close();
  await upstream.sessions(2);
  await assert.rejects(route.connect(request([]), signal), /direct/);
  assert.throws(
    () => route.routeFor(request(["ftp://x:secret@127.0.0.1:21"])),
    (error: unknown) =>
      error instanceof TypeError && !error.message.includes("secret"),
  );
});

Deno.test("BIND and UDP through a two-hop chain use the last hop's listener and relay", async () => {
  using echo = udpEchoTarget();
  await using last = await startServer();
  await using first = await startServer();
  await using front = await startServer({
    upstream: [
      `socks5://127.0.0.1:${first.addr.port}`,
      `socks5://127.0.0.1:${last.addr.port}`,
    ],
  });
  using udp = await udpAssociate({ proxy: front.addr });
  const data = payload(700, 5);
  await udp.send(data, { host: "127.0.0.1", port: echo.addr.port });
  assert.deepEqual((await udp.receive()).data, data);
  udp.close();
  const binding = await bind({ host: "0.0.0.0", port: 0 }, {
    proxy: front.addr,
  });
  try {
    const peer = await Deno.connect({
      hostname: "127.0.0.1",
      port: binding.bound.port,
    });
    try {
      await binding.peer;
      await peer.write(new TextEncoder().encode("two hops"));
      assert.equal(
        new TextDecoder().decode(await readExactly(binding.conn, 8)),
        "two hops",
      );
    } finally {
      peer.close();
    }
  } finally {
    binding.conn.close();
  }
  // The last hop ran both commands; the first only CONNECTed to it.
  const commands = (await last.sessions(2)).map((l) => l.command).sort();
  assert.deepEqual(commands, ["bind", "udp_associate"]);
  const relayed = (await first.sessions(2)).map((l) => l.destination);
  assert.deepEqual(relayed, [
    `127.0.0.1:${last.addr.port}`,
    `127.0.0.1:${last.addr.port}`,
  ]);
});
