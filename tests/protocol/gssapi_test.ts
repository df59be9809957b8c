import assert from "node:assert/strict";
import { ProtocolError } from "../../src/protocol/errors.ts";
import {
  decodeGssFrame,
  encodeGssFrame,
  GSS_ABORT,
  GssAbortError,
  GssMessageType,
  readGssFrame,
  readGssToken,
} from "../../src/protocol/gssapi.ts";
import { ChunkReader, hex, toHex } from "./_fixtures.ts";

Deno.test("encodeGssFrame() writes VER, MTYP, a two-octet LEN and the token", () => {
  assert.equal(
    toHex(encodeGssFrame(GssMessageType.CONTEXT, hex("60 81 aa"))),
    "01 01 00 03 60 81 aa",
  );
  assert.equal(
    toHex(encodeGssFrame(GssMessageType.PROTECTION, hex("05"))),
    "01 02 00 01 05",
  );
  const big = encodeGssFrame(GssMessageType.DATA, new Uint8Array(0x1234));
  assert.equal(toHex(big.subarray(0, 4)), "01 03 12 34");
  assert.equal(big.length, 4 + 0x1234);
});

Deno.test("encodeGssFrame() throws RangeError when the token is empty or too long or the type is the abort", () => {
  assert.throws(() => encodeGssFrame(GssMessageType.DATA, new Uint8Array(0)), {
    name: "RangeError",
    message: "A GSS-API token must be 1-65535 bytes, got 0",
  });
  assert.throws(
    () => encodeGssFrame(GssMessageType.DATA, new Uint8Array(65536)),
    { name: "RangeError" },
  );
  assert.throws(
    () => encodeGssFrame(GssMessageType.ABORT, hex("00")),
    { name: "RangeError" },
  );
  assert.equal(toHex(GSS_ABORT), "01 ff");
});

Deno.test("readGssFrame() assembles a frame split over many reads and tokens longer than one buffer", async (t) => {
  await t.step("split byte by byte", async () => {
    const reader = new ChunkReader("01", "01", "00", "02", "ab", "cd", "99");
    const frame = await readGssFrame(reader);
    assert.equal(frame.type, GssMessageType.CONTEXT);
    assert.equal(toHex(frame.token), "ab cd");
    assert.equal(reader.rest(), "99");
  });
  await t.step("a 3000-byte token is read in 1024-byte pieces", async () => {
    const token = Uint8Array.from({ length: 3000 }, (_, i) => i * 7);
    const reader = new ChunkReader(encodeGssFrame(GssMessageType.DATA, token));
    const frame = await readGssFrame(reader);
    assert.deepEqual(frame.token, token);
    assert.deepEqual(reader.calls, [2, 2, 1024, 1024, 952]);
  });
  await t.step("the abort has no length", async () => {
    const reader = new ChunkReader("01 ff 05");
    assert.deepEqual(await readGssFrame(reader), {
      type: GssMessageType.ABORT,
      token: new Uint8Array(0),
    });
    assert.equal(reader.rest(), "05");
  });
});

Deno.test("readGssFrame() throws ProtocolError for a bad version, type or zero length", async () => {
  await assert.rejects(readGssFrame(new ChunkReader("05 01 00 01 00")), {
    name: "ProtocolError",
    message: "Unsupported GSS-API message version 0x05",
  });
  await assert.rejects(readGssFrame(new ChunkReader("01 04 00 01 00")), {
    name: "ProtocolError",
    message: "Unknown GSS-API message type 0x04",
  });
  await assert.rejects(readGssFrame(new ChunkReader("01 03 00 00")), {
    name: "ProtocolError",
    message: "GSS-API message has length 0",
  });
  await assert.rejects(readGssFrame(new ChunkReader("01 03 00 05 aa")), {
    name: "UnexpectedEofError",
  });
});

Deno.test("readGssToken() returns the token of the expected type and throws on an abort or another type", async () => {
  assert.equal(
    toHex(
      await readGssToken(
        new ChunkReader("01 02 00 01 07"),
        GssMessageType.PROTECTION,
      ),
    ),
    "07",
  );
  const abort = await readGssToken(
    new ChunkReader("01 ff"),
    GssMessageType.CONTEXT,
  ).catch((e) => e);
  assert.ok(abort instanceof GssAbortError);
  assert.ok(abort instanceof ProtocolError);
  await assert.rejects(
    readGssToken(new ChunkReader("01 03 00 01 07"), GssMessageType.PROTECTION),
    {
      name: "ProtocolError",
      message: "Expected GSS-API message type 0x02, got 0x03",
    },
  );
});

Deno.test("decodeGssFrame() round-trips encodeGssFrame() and rejects a length that disagrees with the buffer", () => {
  for (const type of [1, 2, 3] as const) {
    for (const length of [1, 2, 255, 256, 65535]) {
      const token = Uint8Array.from(
        { length },
        (_, i) => (i * 31 + type) & 255,
      );
      const frame = decodeGssFrame(encodeGssFrame(type, token));
      assert.equal(frame.type, type);
      assert.deepEqual(frame.token, token);
    }
  }
  assert.deepEqual(decodeGssFrame(hex("01 ff")).type, GssMessageType.ABORT);
  assert.throws(() => decodeGssFrame(hex("01 03 00 02 aa")), {
    message: "GSS-API message says 2 token bytes, carries 1",
  });
  assert.throws(() => decodeGssFrame(hex("01 03 00 01 aa bb")), {
    message: "GSS-API message says 1 token bytes, carries 2",
  });
  assert.throws(() => decodeGssFrame(hex("01")), { name: "ProtocolError" });
  assert.throws(() => decodeGssFrame(hex("01 03 00")), {
    name: "ProtocolError",
  });
  assert.throws(() => decodeGssFrame(hex("01 ff 00")), {
    name: "ProtocolError",
  });
});
