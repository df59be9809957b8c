import assert from "node:assert/strict";
import type { Connection } from "../../src/runtime/transport.ts";
import { connect } from "../../src/mod.ts";
import { SocksError } from "../../src/protocol/errors.ts";
import { dialingThrough, type FakeDialer } from "../_helpers/fake_network.ts";
import type { Resolver } from "../../src/outbound/resolver.ts";
import { Reply } from "../../src/protocol/constants.ts";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import {
  answerAfterEofTarget,
  echoTarget,
  payload,
} from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";

/** Writes `data` while reading the echo, so neither side's buffer fills. */
async function echoRoundTrip(
  conn: Connection,
  data: Uint8Array,
): Promise<Uint8Array> {
  const received = new Uint8Array(data.length);
  const reading = (async () => {
    let filled = 0;
    while (filled < data.length) {
      const n = await conn.read(received.subarray(filled));
      if (n === null) throw new Error(`EOF after ${filled} bytes`);
      filled += n;
    }
  })();
  let written = 0;
  while (written < data.length) {
    written += await conn.write(data.subarray(written, written + 65536));
  }
  await reading;
  return received;
}

Deno.test("handleConnect() relays 1 MiB byte-exact over IPv4, IPv6 and a domain name", async (t) => {
  await using v4 = echoTarget("127.0.0.1");
  await using v6 = echoTarget("::1");
  await using s = await startServer();
  const proxy = { hostname: s.addr.hostname, port: s.addr.port };
  const cases = [
    { name: "ATYP 01 IPv4", host: "127.0.0.1", port: v4.addr.port },
    { name: "ATYP 04 IPv6", host: "::1", port: v6.addr.port },
    {
      name: "ATYP 03 domain (localhost)",
      host: "localhost",
      port: v4.addr.port,
    },
  ];
  let seed = 1;
  for (const c of cases) {
    await t.step(c.name, async () => {
      const data = payload(1024 * 1024, seed++);
      const { conn, bound } = await connect({ host: c.host, port: c.port }, {
        proxy,
      });
      try {
        const echoed = await echoRoundTrip(conn, data);
        assert.deepEqual(echoed, data);
        assert.equal(bound.port > 0, true);
      } finally {
        conn.close();
      }
    });
  }
  const lines = await s.sessions(3);
  assert.deepEqual(lines.map((l) => l.bytesUp), [1048576, 1048576, 1048576]);
  assert.deepEqual(
    lines.map((l) => l.destination).sort(),
    [
      `127.0.0.1:${v4.addr.port}`,
      `[::1]:${v6.addr.port}`,
      `localhost:${v4.addr.port}`,
    ].sort(),
  );
});

Deno.test("handleConnect() replies with the outbound socket's real local address", async () => {
  await using target = echoTarget();
  await using s = await startServer();
  using client = await RawClient.open(s.addr);
  await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)}`);
  await client.read(2);
  const reply = await client.read(10);
  await client.send("00");
  await client.read(1);
  const seen = target.peers[0]!;
  assert.equal(
    `${reply[4]}.${reply[5]}.${reply[6]}.${reply[7]}`,
    seen.hostname,
  );
  assert.equal((reply[8]! << 8) | reply[9]!, seen.port);
});

Deno.test("handleConnect() forwards a half-close and keeps the other direction open", async () => {
  await using target = answerAfterEofTarget();
  await using s = await startServer();
  const { conn } = await connect(
    { host: "127.0.0.1", port: target.addr.port },
    {
      proxy: s.addr,
    },
  );
  const client = new RawClient(conn);
  await client.send(payload(100_000));
  await conn.closeWrite();
  const answer = new TextDecoder().decode(await client.readToEnd());
  client.close();
  assert.equal(answer, "got 100000 bytes");
});

Deno.test("handleConnect() maps each failure to its reply code", async (t) => {
  const refusedPort = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = l.addr.port;
    l.close();
    return port;
  })();
  const failing = (error: () => Error): FakeDialer => ({
    dial: () => Promise.reject(error()),
  });
  const hanging: FakeDialer = {
    dial: (_h, _p, signal) =>
      new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason))
      ),
  };
  const noSuchName: Resolver = {
    resolve: (name) =>
      Promise.reject(
        new SocksError(Reply.HOST_UNREACHABLE, `Could not resolve ${name}`),
      ),
  };
  const withCode = (code: string) => Object.assign(new Error(code), { code });
  const cases: Array<
    {
      name: string;
      rep: number;
      host?: string;
      port?: number;
      options: Parameters<typeof startServer>[0];
    }
  > = [
    { name: "closed port ⇒ 05", rep: 0x05, port: refusedPort, options: {} },
    {
      name: "unresolvable name ⇒ 04",
      rep: 0x04,
      host: "no-such-host.test",
      options: { resolver: noSuchName },
    },
    {
      name: "connect timeout ⇒ 06",
      rep: 0x06,
      options: { network: dialingThrough(hanging), timeouts: { connect: 100 } },
    },
    {
      name: "ruleset refusal ⇒ 02",
      rep: 0x02,
      options: {
        ruleset: { permits: () => false, permitsAddress: () => true },
      },
    },
    {
      name: "resolved address refused ⇒ 02",
      rep: 0x02,
      options: {
        ruleset: { permits: () => true, permitsAddress: () => false },
      },
    },
    {
      name: "network unreachable ⇒ 03",
      rep: 0x03,
      options: {
        network: dialingThrough(
          failing(() => new Deno.errors.NetworkUnreachable("no route")),
        ),
      },
    },
    {
      name: "host unreachable ⇒ 04",
      rep: 0x04,
      options: {
        network: dialingThrough(failing(() => withCode("EHOSTUNREACH"))),
      },
    },
    {
      name: "TTL expired (ETIMEDOUT) ⇒ 06",
      rep: 0x06,
      options: {
        network: dialingThrough(failing(() => withCode("ETIMEDOUT"))),
      },
    },
    {
      name: "anything else ⇒ 01",
      rep: 0x01,
      options: { network: dialingThrough(failing(() => new Error("boom"))) },
    },
    {
      name: "CONNECT disabled ⇒ 07",
      rep: 0x07,
      options: { commands: { connect: false } },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await using s = await startServer(c.options);
      await assert.rejects(
        connect({ host: c.host ?? "127.0.0.1", port: c.port ?? 9 }, {
          proxy: s.addr,
        }),
        (error: unknown) =>
          error instanceof SocksError && error.reply === c.rep,
      );
      const [line] = await s.sessions(1);
      assert.equal(line!.reply, c.rep);
      assert.equal(s.metrics.get("replies_total", String(c.rep)), 1);
    });
  }
});

Deno.test("handleConnect() tries every resolved address before giving up", async () => {
  await using target = echoTarget("127.0.0.1");
  const refused = (() => {
    const l = Deno.listen({ hostname: "::1", port: 0 });
    const port = l.addr.port;
    l.close();
    return port;
  })();
  // The name resolves to ::1 first (nothing listens there on the target's
  // port) and then 127.0.0.1.
  const attempts: string[] = [];
  await using s = await startServer({
    resolver: { resolve: () => Promise.resolve(["::1", "127.0.0.1"]) },
    network: dialingThrough({
      dial(hostname, port, signal) {
        attempts.push(hostname);
        return Deno.connect({
          hostname,
          port: hostname === "::1" ? refused : port,
          signal,
        });
      },
    }),
  });
  const { conn } = await connect(
    { host: "dual.test", port: target.addr.port },
    { proxy: s.addr },
  );
  const echoed = await echoRoundTrip(conn, Uint8Array.of(1, 2, 3));
  conn.close();
  assert.deepEqual([...echoed], [1, 2, 3]);
  assert.deepEqual(attempts, ["::1", "127.0.0.1"]);
});
