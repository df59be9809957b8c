import assert from "node:assert/strict";
import {
  acceptGssapi,
  chooseProtection,
} from "../../src/auth/gssapi_method.ts";
import { FrameReader } from "../../src/core/frame_reader.ts";
import { SocksError } from "../../src/protocol/errors.ts";
import {
  fakeCredential,
  FakeGssContext,
  type FakeGssOptions,
  ScriptedConnection,
} from "../_helpers/fake_gss.ts";
import { hex, toHex } from "../protocol/_fixtures.ts";

Deno.test("chooseProtection() agrees to an allowed level, else the nearest above, else the strongest; never selective", () => {
  const cases: Array<[number, number[], number]> = [
    [2, [1, 2], 2],
    [1, [1, 2], 1],
    [0, [1, 2], 1],
    [0, [0, 1, 2], 0],
    [2, [0, 1], 1],
    [3, [1, 2], 2],
    [3, [0, 1], 1],
    [1, [2], 2],
  ];
  for (const [requested, allowed, expected] of cases) {
    assert.equal(
      chooseProtection(requested, allowed as Array<0 | 1 | 2>),
      expected,
      `${requested} of [${allowed}]`,
    );
  }
});

function _run(input: string, options: FakeGssOptions, protection = [1, 2]) {
  const context = new FakeGssContext(options);
  const conn = new ScriptedConnection(hex(input));
  const result = acceptGssapi(new FrameReader(conn), conn, {
    credential: fakeCredential(context),
    service: "rcmd",
    protection: protection as Array<0 | 1 | 2>,
  });
  return { context, conn, result };
}

Deno.test("acceptGssapi() answers context tokens, then the sealed level, and continues over a protecting connection", async () => {
  const { context, conn, result } = _run(
    // context token, protection request (level 2, sealed), first data
    "01 01 00 02 60 01  01 02 00 02 50 02  01 03 00 02 c0 05",
    { outputs: [hex("6f 02")] },
  );
  const accepted = await result;
  assert.equal(accepted.principal, "alice@SOCKS.TEST");
  assert.equal(accepted.level, 2);
  assert.equal(toHex(context.inputs[0]!), "60 01");
  assert.equal(toHex(conn.all), "01 01 00 02 6f 02 01 02 00 02 50 02");
  // What was read past the negotiation is the first protected message.
  assert.equal(toHex(await accepted.protected!.reader.readExact(1)), "05");
  assert.equal(context.closes, 0);
  accepted.protected!.connection.close();
  assert.equal(context.closes, 1);
});

Deno.test("acceptGssapi() at level 0 leaves the connection raw and deletes the context", async () => {
  const { context, conn, result } = _run(
    "01 01 00 01 60  01 02 00 02 50 00",
    {},
    [0, 1, 2],
  );
  const accepted = await result;
  assert.equal(accepted.level, 0);
  assert.equal(accepted.protected, null);
  assert.equal(toHex(conn.all), "01 02 00 02 50 00");
  assert.equal(context.closes, 1);
});

Deno.test("acceptGssapi() answers a refused token, a wrong service or a broken level with 01 ff and REP 02", async (t) => {
  const refused = async (
    input: string,
    options: FakeGssOptions,
    message: RegExp,
  ) => {
    const { context, conn, result } = _run(input, options);
    const error = await result.catch((e) => e);
    assert.ok(error instanceof SocksError, String(error));
    assert.equal(error.reply, 2);
    assert.match(error.message, message);
    assert.equal(toHex(conn.all.subarray(-2)), "01 ff");
    assert.equal(context.closes, 1);
  };
  await t.step("the library refuses the token", async () => {
    await refused("01 01 00 01 60", { failStep: 0 }, /Invalid token/);
  });
  await t.step("a ticket for another service", async () => {
    await refused(
      "01 01 00 01 60",
      { target: "host/localhost@SOCKS.TEST" },
      /ticket is for service "host", not "rcmd"/,
    );
  });
  await t.step("a protection request of two octets", async () => {
    await refused(
      "01 01 00 01 60  01 02 00 03 50 02 02",
      {},
      /expected one sealed octet, got 2/,
    );
  });
  await t.step("a message of the wrong type", async () => {
    await refused("01 03 00 01 60", {}, /Expected GSS-API message type 0x01/);
  });
});

Deno.test("acceptGssapi() sends no abort back to a client that aborted", async () => {
  const { conn, result } = _run("01 ff", {});
  await assert.rejects(result, { message: /Peer aborted/ });
  assert.equal(conn.all.length, 0);
});
