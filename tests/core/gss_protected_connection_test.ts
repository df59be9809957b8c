import assert from "node:assert/strict";
import {
  gssDatagramProtection,
  GssProtectedConnection,
} from "../../src/core/gss_protected_connection.ts";
import { FakeGssContext, ScriptedConnection } from "../_helpers/fake_gss.ts";
import { hex, toHex } from "../protocol/_fixtures.ts";

Deno.test("GssProtectedConnection.write() sends one 01 03 message per 16 KiB, wrapped with the level's conf_req", async () => {
  const raw = new ScriptedConnection();
  const conf = new GssProtectedConnection(raw, new FakeGssContext(), 2);
  assert.equal(await conf.write(hex("61 62 63")), 3);
  assert.equal(toHex(raw.all), "01 03 00 04 c0 61 62 63");
  const integ = new ScriptedConnection();
  await new GssProtectedConnection(integ, new FakeGssContext(), 1).write(
    new Uint8Array(40_000),
  );
  assert.deepEqual(
    integ.written.map((frame) => toHex(frame.subarray(0, 5))),
    ["01 03 40 01 50", "01 03 40 01 50", "01 03 1c 41 50"],
  );
  assert.equal(integ.all.length, 40_000 + 3 * 5);
});

Deno.test("GssProtectedConnection.read() unwraps messages split over reads, prefix first, and hands out the rest on the next read", async () => {
  const raw = new ScriptedConnection(
    hex("00 03"),
    hex("c0 68 69 01"),
    hex("03 00 02 c0 21"),
  );
  const conn = new GssProtectedConnection(
    raw,
    new FakeGssContext(),
    2,
    hex("01 03"),
  );
  const one = new Uint8Array(1);
  assert.equal(await conn.read(one), 1);
  assert.equal(toHex(one), "68");
  const big = new Uint8Array(10);
  assert.equal(await conn.read(big), 1);
  assert.equal(toHex(big.subarray(0, 1)), "69");
  assert.equal(await conn.read(big), 1);
  assert.equal(toHex(big.subarray(0, 1)), "21");
  assert.equal(await conn.read(big), null);
});

Deno.test("GssProtectedConnection.read() rejects what breaks the agreed protection", async (t) => {
  const reading = (level: 1 | 2, bytes: string) =>
    new GssProtectedConnection(
      new ScriptedConnection(hex(bytes)),
      new FakeGssContext(),
      level,
    ).read(new Uint8Array(16));
  await t.step("an integrity-only message at level 2", async () => {
    await assert.rejects(reading(2, "01 03 00 02 50 41"), {
      name: "ProtocolError",
      message: "Protected message was not encrypted at protection level 2",
    });
  });
  await t.step("level 1 takes integrity-only messages", async () => {
    assert.equal(await reading(1, "01 03 00 02 50 41"), 1);
  });
  await t.step("a replayed token", async () => {
    await assert.rejects(reading(2, "01 03 00 02 dd 41"), {
      name: "ProtocolError",
      message: "Protected message replayed or out of order (status 0x2)",
    });
  });
  await t.step("a token after a gap (TCP cannot lose one)", async () => {
    await assert.rejects(reading(1, "01 03 00 02 6a 41"), {
      message: "Protected message replayed or out of order (status 0x10)",
    });
  });
  await t.step("a forged token", async () => {
    await assert.rejects(reading(2, "01 03 00 02 bb 41"), {
      name: "ProtocolError",
      message:
        "Protected message rejected: Unwrapping a message failed: Invalid token",
    });
  });
  await t.step("a context message where data belongs", async () => {
    await assert.rejects(reading(2, "01 01 00 02 c0 41"), {
      message: "Expected GSS-API message type 0x03, got 0x01",
    });
  });
  await t.step("the end of the stream inside a message", async () => {
    await assert.rejects(reading(2, "01 03 00 05 c0"), {
      name: "UnexpectedEofError",
    });
  });
});

Deno.test("GssProtectedConnection.close() closes the connection and deletes the context once", () => {
  const raw = new ScriptedConnection();
  const context = new FakeGssContext();
  const conn = new GssProtectedConnection(raw, context, 2);
  conn.close();
  conn.close();
  assert.equal(raw.closed, true);
  assert.equal(context.closes, 1);
});

Deno.test("gssDatagramProtection() seals whole datagrams and accepts gaps but not replays", () => {
  const udp = gssDatagramProtection(new FakeGssContext(), 2);
  assert.equal(
    toHex(udp.seal(hex("00 00 00 01"))),
    "01 03 00 05 c0 00 00 00 01",
  );
  assert.equal(toHex(udp.open(hex("01 03 00 03 c0 aa bb"))), "aa bb");
  assert.throws(() => udp.open(hex("01 03 00 03 50 aa bb")), {
    message: "Protected message was not encrypted at protection level 2",
  });
  const integrity = gssDatagramProtection(new FakeGssContext(), 1);
  assert.equal(toHex(integrity.open(hex("01 03 00 02 6a 01"))), "01");
  assert.throws(() => integrity.open(hex("01 03 00 02 dd 01")), {
    message: "Protected message replayed or out of order (status 0x2)",
  });
  assert.throws(() => udp.open(hex("01 03 00 09 c0")), {
    name: "ProtocolError",
  });
  assert.throws(() => udp.open(hex("01 02 00 02 c0 01")), {
    message: "Protected datagram is not a data message",
  });
});
