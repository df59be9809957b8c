import assert from "node:assert/strict";
import {
  ProtocolError,
  UnexpectedEofError,
} from "../../src/protocol/errors.ts";
import { Method, Reply } from "../../src/protocol/constants.ts";
import {
  encodeGreeting,
  encodeMethodChoice,
  readGreeting,
  readMethodChoice,
  VersionError,
} from "../../src/protocol/greeting.ts";
import { ChunkReader, toHex } from "./_fixtures.ts";

Deno.test("readGreeting() returns the offered methods when the greeting arrives whole", async () => {
  const reader = new ChunkReader("05 02 00 02");
  assert.equal(toHex(await readGreeting(reader)), "00 02");
  assert.equal(reader.rest(), "");
});

Deno.test("readGreeting() assembles the greeting when it is split", async (t) => {
  const splits: Array<[string, string[]]> = [
    ["byte by byte", ["05", "03", "00", "01", "02"]],
    ["after VER", ["05", "03 00 01 02"]],
    ["inside METHODS", ["05 03 00", "01 02"]],
  ];
  for (const [name, chunks] of splits) {
    await t.step(name, async () => {
      const reader = new ChunkReader(...chunks);
      assert.equal(toHex(await readGreeting(reader)), "00 01 02");
    });
  }
});

Deno.test("readGreeting() leaves pipelined bytes unread when a request follows", async () => {
  const reader = new ChunkReader("05 01 00 05 01 00 01 7f 00 00 01 00 50");
  assert.equal(toHex(await readGreeting(reader)), "00");
  assert.equal(reader.rest(), "05 01 00 01 7f 00 00 01 00 50");
});

Deno.test("readGreeting() returns an empty list when NMETHODS is 0", async () => {
  const reader = new ChunkReader("05 00", "05 01 00");
  const methods = await readGreeting(reader);
  assert.equal(methods.length, 0);
  assert.equal(reader.rest(), "05 01 00");
});

Deno.test("readGreeting() returns all 255 methods when NMETHODS is 255", async () => {
  const all = Uint8Array.from({ length: 255 }, (_, i) => i);
  const reader = new ChunkReader(Uint8Array.of(0x05, 0xff), all);
  assert.deepStrictEqual(await readGreeting(reader), all);
});

Deno.test("readGreeting() returns a copy when the reader reuses its buffer", async () => {
  const reader = new ChunkReader("05 02 00 02");
  const methods = await readGreeting(reader);
  assert.equal(methods.byteOffset, 0);
  assert.equal(methods.buffer.byteLength, 2);
});

Deno.test("readGreeting() throws VersionError when VER is not 05", async (t) => {
  const cases: Array<[string, number]> = [
    ["SOCKS4", 0x04],
    ["zero", 0x00],
    ["HTTP 'G'", 0x47],
    ["ff", 0xff],
  ];
  for (const [name, version] of cases) {
    await t.step(name, async () => {
      const reader = new ChunkReader(Uint8Array.of(version, 1, 0));
      await assert.rejects(readGreeting(reader), (error: unknown) => {
        assert.ok(error instanceof VersionError);
        assert.ok(error instanceof ProtocolError);
        assert.equal(error.name, "VersionError");
        assert.equal(error.version, version);
        assert.equal(error.reply, Reply.GENERAL_FAILURE);
        assert.equal(
          error.message,
          `Unsupported SOCKS version 0x${
            version.toString(16).padStart(2, "0")
          }`,
        );
        return true;
      });
      // Nothing past VER and NMETHODS is read.
      assert.deepStrictEqual(reader.calls, [2]);
    });
  }
});

Deno.test("readGreeting() rejects with UnexpectedEof when the stream ends early", async (t) => {
  for (const bytes of ["", "05", "05 02 00"]) {
    await t.step(JSON.stringify(bytes), async () => {
      await assert.rejects(
        readGreeting(new ChunkReader(bytes)),
        UnexpectedEofError,
      );
    });
  }
});

Deno.test("encodeGreeting() writes VER, NMETHODS and METHODS when given methods", async (t) => {
  await t.step("no auth", () => {
    assert.equal(toHex(encodeGreeting([Method.NO_AUTH])), "05 01 00");
  });
  await t.step("no auth and username/password", () => {
    assert.equal(
      toHex(encodeGreeting([Method.NO_AUTH, Method.USERPASS])),
      "05 02 00 02",
    );
  });
  await t.step("255 methods", () => {
    const bytes = encodeGreeting(new Array(255).fill(0x02));
    assert.equal(bytes.length, 257);
    assert.equal(toHex(bytes.subarray(0, 3)), "05 ff 02");
  });
});

Deno.test("encodeGreeting() throws RangeError when given 0 or more than 255 methods", () => {
  assert.throws(() => encodeGreeting([]), {
    name: "RangeError",
    message: "A greeting offers 1-255 methods, got 0",
  });
  assert.throws(() => encodeGreeting(new Array(256).fill(0)), {
    name: "RangeError",
    message: "A greeting offers 1-255 methods, got 256",
  });
});

Deno.test("encodeMethodChoice() writes VER and METHOD when given a method", () => {
  assert.equal(toHex(encodeMethodChoice(Method.NO_AUTH)), "05 00");
  assert.equal(toHex(encodeMethodChoice(Method.USERPASS)), "05 02");
  assert.equal(toHex(encodeMethodChoice(Method.NO_ACCEPTABLE)), "05 ff");
});

Deno.test("readMethodChoice() returns METHOD when VER is 05", async () => {
  const reader = new ChunkReader("05", "ff", "01 02");
  assert.equal(await readMethodChoice(reader), 0xff);
  assert.equal(reader.rest(), "01 02");
});

Deno.test("readMethodChoice() throws VersionError when VER is not 05", async () => {
  await assert.rejects(readMethodChoice(new ChunkReader("04 00")), {
    name: "VersionError",
    version: 4,
  });
});
