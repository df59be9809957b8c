import assert from "node:assert/strict";
import {
  ProtocolError,
  UnexpectedEofError,
} from "../../src/protocol/errors.ts";
import { Reply } from "../../src/protocol/constants.ts";
import {
  encodeUserPassReply,
  encodeUserPassRequest,
  readUserPassReply,
  readUserPassRequest,
} from "../../src/protocol/userpass.ts";
import { ChunkReader, hex, toHex } from "./_fixtures.ts";

/** "alice" / "s3cret" */
const ALICE = "01 05 61 6c 69 63 65 06 73 33 63 72 65 74";

Deno.test("encodeUserPassRequest() writes VER, ULEN, UNAME, PLEN and PASSWD when given credentials", async (t) => {
  await t.step("ASCII", () => {
    assert.equal(toHex(encodeUserPassRequest("alice", "s3cret")), ALICE);
  });
  await t.step("UTF-8 lengths in bytes", () => {
    assert.equal(
      toHex(encodeUserPassRequest("ü", "pa:ss")),
      "01 02 c3 bc 05 70 61 3a 73 73",
    );
  });
  await t.step("255-byte fields", () => {
    const bytes = encodeUserPassRequest("u".repeat(255), "p".repeat(255));
    assert.equal(bytes.length, 513);
    assert.equal(bytes[1], 255);
    assert.equal(bytes[257], 255);
  });
});

Deno.test("encodeUserPassRequest() throws RangeError when a field is empty or too long", () => {
  assert.throws(() => encodeUserPassRequest("", "x"), {
    name: "RangeError",
    message: "Username must be 1-255 bytes, got 0",
  });
  assert.throws(() => encodeUserPassRequest("x", ""), {
    name: "RangeError",
    message: "Password must be 1-255 bytes, got 0",
  });
  assert.throws(() => encodeUserPassRequest("u".repeat(256), "x"), RangeError);
  // 128 two-byte characters: 256 bytes. The password is not quoted.
  assert.throws(() => encodeUserPassRequest("x", "ü".repeat(128)), {
    name: "RangeError",
    message: "Password must be 1-255 bytes, got 256",
  });
});

Deno.test("readUserPassRequest() returns the credentials when read in any split", async (t) => {
  const wire = hex(ALICE);
  const splits: Array<[string, Uint8Array[]]> = [
    ["whole", [wire]],
    ["byte by byte", Array.from(wire, (b) => Uint8Array.of(b))],
    ["split inside UNAME", [wire.subarray(0, 4), wire.subarray(4)]],
    ["split before PLEN", [wire.subarray(0, 7), wire.subarray(7)]],
  ];
  for (const [name, chunks] of splits) {
    await t.step(name, async () => {
      const reader = new ChunkReader(...chunks, "05 01 00");
      const { username, password } = await readUserPassRequest(reader);
      assert.equal(username, "alice");
      assert.equal(toHex(password), "73 33 63 72 65 74");
      assert.equal(reader.rest(), "05 01 00");
    });
  }
});

Deno.test("readUserPassRequest() keeps the password bytes exactly when they are not UTF-8", async () => {
  const reader = new ChunkReader("01 01 61 03 ff 00 fe");
  const { password } = await readUserPassRequest(reader);
  assert.equal(toHex(password), "ff 00 fe");
  // A copy, not a view into the reader's buffer.
  assert.equal(password.buffer.byteLength, 3);
});

Deno.test("readUserPassRequest() replaces invalid UTF-8 when decoding the username", async () => {
  const reader = new ChunkReader("01 02 61 ff 01 70");
  assert.equal((await readUserPassRequest(reader)).username, "a\ufffd");
});

function assertRejectsProtocol(
  promise: Promise<unknown>,
  message: string,
): Promise<void> {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.reply, Reply.GENERAL_FAILURE);
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("readUserPassRequest() throws ProtocolError when VER is not 01", async () => {
  const reader = new ChunkReader("05 05 61 6c 69 63 65 01 70");
  await assertRejectsProtocol(
    readUserPassRequest(reader),
    "Unsupported username/password version 0x05",
  );
});

Deno.test("readUserPassRequest() throws ProtocolError when ULEN or PLEN is 0", async (t) => {
  await t.step("ULEN 0", async () => {
    const reader = new ChunkReader("01 00 01 70");
    await assertRejectsProtocol(
      readUserPassRequest(reader),
      "Username has length 0",
    );
    assert.equal(reader.rest(), "01 70");
  });
  await t.step("PLEN 0", async () => {
    const reader = new ChunkReader("01 01 61 00");
    await assertRejectsProtocol(
      readUserPassRequest(reader),
      "Password has length 0",
    );
    assert.equal(reader.rest(), "");
  });
});

Deno.test("readUserPassRequest() rejects with UnexpectedEof when the stream ends early", async (t) => {
  for (const bytes of ["01", "01 05 61 6c", "01 01 61", "01 01 61 03 70 70"]) {
    await t.step(bytes, async () => {
      await assert.rejects(
        readUserPassRequest(new ChunkReader(bytes)),
        UnexpectedEofError,
      );
    });
  }
});

Deno.test("encodeUserPassReply() writes VER and STATUS when given a status", () => {
  assert.equal(toHex(encodeUserPassReply(0x00)), "01 00");
  assert.equal(toHex(encodeUserPassReply(0x01)), "01 01");
});

Deno.test("readUserPassReply() returns STATUS when VER is 01", async () => {
  assert.equal(await readUserPassReply(new ChunkReader("01 00")), 0x00);
  assert.equal(await readUserPassReply(new ChunkReader("01", "ff")), 0xff);
});

Deno.test("readUserPassReply() throws ProtocolError when VER is not 01", async () => {
  await assertRejectsProtocol(
    readUserPassReply(new ChunkReader("05 00")),
    "Unexpected username/password reply version 0x05",
  );
});
