/**
 * Name resolution that fails or is slow: failures map to the right reply
 * codes, slow lookups are bounded by the connect timeout (even when the
 * resolver ignores its abort signal), a slow lookup never holds up other
 * clients, and per-datagram lookups of UDP ASSOCIATE are bounded too.
 *
 * Only injected resolvers: no real DNS query leaves the machine.
 *
 * @module
 */

import assert from "node:assert/strict";
import { udpAssociate } from "../../src/mod.ts";
import { SocksError } from "../../src/protocol/errors.ts";
import type { Resolver } from "../../src/outbound/resolver.ts";
import { Reply } from "../../src/protocol/constants.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { echoTarget, udpEchoTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { eventually, within } from "../_helpers/wait.ts";

const HANG_MS = 10_000;

/** CONNECT to a name; returns the reply code. */
async function connectByName(
  addr: Deno.NetAddr,
  name: string,
  port: number,
): Promise<number> {
  using client = await RawClient.open(addr);
  const bytes = new TextEncoder().encode(name);
  await client.send(
    Uint8Array.of(
      5,
      1,
      0,
      5,
      1,
      0,
      3,
      bytes.length,
      ...bytes,
      port >> 8,
      port & 0xff,
    ),
  );
  await client.read(2);
  return (await within(client.read(10), HANG_MS, "reply"))[1]!;
}

/** A resolver that answers only after the test says so, or never. */
function slowResolver(honourSignal: boolean) {
  const waiting: Array<(addresses: string[]) => void> = [];
  const resolver: Resolver = {
    resolve: (_name, signal) =>
      new Promise((resolve, reject) => {
        waiting.push(resolve);
        if (honourSignal) {
          signal.addEventListener("abort", () => reject(signal.reason), {
            once: true,
          });
        }
      }),
  };
  return {
    resolver,
    waiting,
    releaseAll: () => waiting.splice(0).forEach((w) => w(["127.0.0.1"])),
  };
}

Deno.test("session maps each kind of DNS failure to its reply code", async (t) => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });
  const cases: Array<[string, () => Promise<string[]>, number]> = [
    [
      "SocksError 04",
      () =>
        Promise.reject(new SocksError(Reply.HOST_UNREACHABLE, "No such name")),
      Reply.HOST_UNREACHABLE,
    ],
    [
      "ENOTFOUND",
      () => Promise.reject(withCode("ENOTFOUND")),
      Reply.HOST_UNREACHABLE,
    ],
    [
      "EAI_AGAIN",
      () => Promise.reject(withCode("EAI_AGAIN")),
      Reply.HOST_UNREACHABLE,
    ],
    ["no addresses at all", () => Promise.resolve([]), Reply.HOST_UNREACHABLE],
    [
      "a timeout of its own",
      () => Promise.reject(new DOMException("slow", "TimeoutError")),
      Reply.TTL_EXPIRED,
    ],
  ];
  for (const [name, resolve, rep] of cases) {
    await t.step(`${name} ⇒ ${rep.toString(16).padStart(2, "0")}`, async () => {
      await using s = await startServer({ resolver: { resolve } });
      assert.equal(await connectByName(s.addr, "name.test", 80), rep);
      const [line] = await s.sessions(1);
      assert.equal(line!.reply, rep);
    });
  }
});

Deno.test("session refuses a name the ruleset refuses without resolving it", async () => {
  const asked: string[] = [];
  await using s = await startServer({
    resolver: {
      resolve: (name) => (asked.push(name), Promise.resolve(["127.0.0.1"])),
    },
    ruleset: {
      permits: (r) => r.destination.host !== "blocked.test",
      permitsAddress: () => true,
    },
  });
  assert.equal(
    await connectByName(s.addr, "blocked.test", 80),
    Reply.NOT_ALLOWED,
  );
  assert.deepEqual(asked, []);
});

Deno.test("slow DNS is bounded by the connect timeout and answered with 06", async (t) => {
  for (const honourSignal of [true, false]) {
    await t.step(
      honourSignal
        ? "a resolver that honours its signal"
        : "a resolver that ignores its signal",
      async () => {
        const slow = slowResolver(honourSignal);
        await using s = await startServer({
          resolver: slow.resolver,
          timeouts: { connect: 300 },
        });
        try {
          assert.equal(
            await connectByName(s.addr, "slow.test", 80),
            Reply.TTL_EXPIRED,
          );
          await within(s.sessions(1), HANG_MS, "session ended");
          await eventually(
            () => s.server.activeSessions === 0,
            "session ended",
          );
        } finally {
          slow.releaseAll(); // a late answer must be harmless
        }
      },
    );
  }
});

Deno.test("a slow lookup does not hold up other clients", async () => {
  await using target = echoTarget();
  const slow = slowResolver(true);
  await using s = await startServer({
    resolver: {
      resolve: (name, signal) =>
        name === "slow.test"
          ? slow.resolver.resolve(name, signal)
          : Promise.resolve(["127.0.0.1"]),
    },
    timeouts: { connect: 5_000 },
  });
  const pending = Array.from(
    { length: 10 },
    () => connectByName(s.addr, "slow.test", target.addr.port),
  );
  await eventually(() => slow.waiting.length === 10, "lookups started");
  // While ten lookups hang, another client is served end to end.
  assert.equal(
    await connectByName(s.addr, "fast.test", target.addr.port),
    Reply.SUCCEEDED,
  );
  assert.equal(slow.waiting.length, 10);
  slow.releaseAll();
  assert.deepEqual(
    await Promise.all(pending),
    new Array(10).fill(Reply.SUCCEEDED),
  );
  await eventually(() => s.server.activeSessions === 0, "sessions ended");
});

Deno.test("handleUdpAssociate() bounds a slow per-datagram lookup and keeps relaying", async (t) => {
  for (const honourSignal of [true, false]) {
    await t.step(
      honourSignal
        ? "a resolver that honours its signal"
        : "a resolver that ignores its signal",
      async () => {
        using echo = udpEchoTarget();
        const slow = slowResolver(honourSignal);
        await using s = await startServer({
          resolver: slow.resolver,
          timeouts: { connect: 300 },
        });
        try {
          {
            using udp = await udpAssociate({ proxy: s.addr });
            await udp.send(Uint8Array.of(1), {
              host: "slow.test",
              port: echo.addr.port,
            });
            // Sent after the slow one: relayed once that lookup gave up.
            await udp.send(Uint8Array.of(2), {
              host: "127.0.0.1",
              port: echo.addr.port,
            });
            const { data } = await within(
              udp.receive(),
              HANG_MS,
              "relayed datagram",
            );
            assert.deepEqual([...data], [2]);
            assert.equal(s.metrics.get("udp_dropped_total", "unresolvable"), 1);
          }
          await within(s.sessions(1), HANG_MS, "association ended");
          await eventually(
            () => s.server.activeSessions === 0,
            "session ended",
          );
        } finally {
          slow.releaseAll();
        }
      },
    );
  }
});
