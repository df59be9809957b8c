import assert from "node:assert/strict";
import { fakeGssLoader } from "../_helpers/fake_gss.ts";
import { hex, ipv4Hex, RawClient, toHex } from "../_helpers/raw_client.ts";
import { echoTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";

const GSSAPI = { keytab: "/fake.keytab", service: "rcmd" };

Deno.test("socks5FrontEnd() prefers GSS-API when offered, else username/password, and refuses no-auth when either is configured", async (t) => {
  const fake = fakeGssLoader();
  await using s = await startServer(
    { gssapi: GSSAPI, users: { bob: "pw" } },
    { loadGssapi: fake.load },
  );
  for (
    const [offer, answer] of [
      ["05 02 02 01", "05 01"],
      ["05 01 02", "05 02"],
      ["05 01 00", "05 ff"],
    ] as const
  ) {
    await t.step(`${offer} is answered ${answer}`, async () => {
      using client = await RawClient.open(s.addr);
      await client.send(offer);
      assert.equal(await client.readHex(2), answer);
    });
  }
  const listening = s.logs.find((l) => l.msg === "listening")!;
  assert.equal(listening.auth, "gssapi, username/password");
});

Deno.test("socks5FrontEnd() runs the request, the reply and the relay inside 01 03 messages at level 2, the principal as user", async () => {
  const fake = fakeGssLoader();
  await using target = echoTarget();
  // Loopback only, whatever the bytes say: a fixture mistake must not dial out.
  await using s = await startServer({
    gssapi: GSSAPI,
    ruleset: {
      permits: (r) => r.destination.host === "127.0.0.1",
      permitsAddress: (_r, address) => address === "127.0.0.1",
    },
  }, {
    loadGssapi: fake.load,
  });
  using client = await RawClient.open(s.addr);
  await client.send("05 01 01");
  assert.equal(await client.readHex(2), "05 01");
  // One context token (the fake completes at once), then level 2, sealed.
  await client.send("01 01 00 01 60  01 02 00 02 50 02");
  assert.equal(await client.readHex(6), "01 02 00 02 50 02");
  // ipv4Hex() gives ATYP, the address and the port: 10 bytes in all.
  const request = `05 01 00 ${ipv4Hex(target.addr)}`;
  await client.send(`01 03 00 0b c0 ${request}`);
  assert.equal(hex(request).length, 10);
  const reply = await client.read(15);
  assert.equal(toHex(reply.subarray(0, 9)), "01 03 00 0b c0 05 00 00 01");
  await client.send("01 03 00 04 c0 61 62 63");
  assert.equal(await client.readHex(8), "01 03 00 04 c0 61 62 63");
  // Plaintext where a message belongs ends the session.
  await client.send(hex("05 05 05 05"));
  assert.equal(await client.closedByPeer(), true);
  const [session] = await s.sessions(1);
  assert.equal(session!.user, "alice@SOCKS.TEST");
  assert.equal(session!.command, "connect");
  assert.equal(session!.bytesUp, 3);
  assert.equal(session!.bytesDown, 3);
  assert.equal(fake.contexts[0]!.closes, 1);
});

Deno.test("serve() accepts a non-loopback listener when only GSS-API is configured", async () => {
  const fake = fakeGssLoader();
  await using s = await startServer(
    { gssapi: GSSAPI, listen: { hostname: "0.0.0.0", port: 0 } },
    { loadGssapi: fake.load },
  );
  assert.ok(s.addr.port > 0);
});

Deno.test("failed GSS-API logins count toward the per-client throttle: past the limit the abort comes before any context step", async () => {
  const fake = fakeGssLoader({ failStep: 0 });
  await using s = await startServer(
    { gssapi: GSSAPI, limits: { authFailuresPerMinute: 2 } },
    { loadGssapi: fake.load },
  );
  for (let attempt = 1; attempt <= 3; attempt++) {
    using client = await RawClient.open(s.addr);
    await client.send("05 01 01");
    assert.equal(await client.readHex(2), "05 01");
    await client.send("01 01 00 01 60");
    assert.equal(await client.readHex(2), "01 ff", `attempt ${attempt}`);
    assert.equal(await client.closedByPeer(), true);
  }
  // Two contexts failed; the third client got the abort without one.
  assert.equal(fake.contexts.length, 2);
  const sessions = await s.sessions(3);
  assert.deepStrictEqual(sessions.map((l) => l.stage), [
    "auth",
    "auth",
    "auth",
  ]);
  assert.match(String(sessions[2]!.error), /too many failed logins/);
});
