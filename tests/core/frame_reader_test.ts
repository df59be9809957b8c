import assert from "node:assert/strict";
import { UnexpectedEofError } from "../../src/protocol/errors.ts";
import { type ByteSource, FrameReader } from "../../src/core/frame_reader.ts";
import { AddressType, Command } from "../../src/protocol/constants.ts";
import { readGreeting } from "../../src/protocol/greeting.ts";
import { readRequest } from "../../src/protocol/request.ts";
import { readUserPassRequest } from "../../src/protocol/userpass.ts";
import { hex, toHex } from "../protocol/_fixtures.ts";

/** Greeting, RFC 1929 login, CONNECT request, then pipelined payload. */
const GREETING = "05 02 00 02";
const LOGIN = "01 05 61 6c 69 63 65 06 73 33 63 72 65 74";
const REQUEST = "05 01 00 03 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00 50";
const PAYLOAD = "47 45 54 20 2f 0d 0a";
const WIRE = hex(`${GREETING} ${LOGIN} ${REQUEST} ${PAYLOAD}`);
/** The frame lengths of the handshake above, as the codecs ask for them. */
const FRAMES = [2, 2, 2, 6, 6, 4, 1, 13];

/**
 * A {@linkcode ByteSource} that delivers `chunks`, one per read, as a
 * connection does one network read at a time; then ends (`null`), or fails
 * with `error` if one is given. A read never writes more than the buffer
 * holds: what does not fit stays for the next read.
 */
class ChunkSource implements ByteSource {
  #pending: Uint8Array[];
  #error: Error | undefined;
  /** The length of each buffer passed to `read()`, in order. */
  readonly asked: number[] = [];
  /** What each `read()` returned, in order. */
  readonly got: Array<number | null> = [];

  constructor(chunks: Uint8Array[], error?: Error) {
    this.#pending = chunks.map((chunk) => chunk.slice());
    this.#error = error;
  }

  /** How many times `read()` was called. */
  get reads(): number {
    return this.asked.length;
  }

  /** The bytes not read yet. */
  remaining(): string {
    return this.#pending.map(toHex).filter((s) => s).join(" ");
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.asked.push(buffer.length);
    assert.ok(buffer.length > 0, "read() with an empty buffer");
    const chunk = this.#pending.shift();
    if (!chunk) {
      this.got.push(null);
      return this.#error ? Promise.reject(this.#error) : Promise.resolve(null);
    }
    const length = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, length));
    if (length < chunk.length) this.#pending.unshift(chunk.subarray(length));
    this.got.push(length);
    return Promise.resolve(length);
  }
}

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits bytes into chunks of 1 to `max` bytes. */
function randomSplit(
  bytes: Uint8Array,
  seed: number,
  max: number,
): Uint8Array[] {
  const next = random(seed);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    const length = 1 + Math.floor(next() * max);
    chunks.push(bytes.subarray(i, i + length));
    i += length;
  }
  return chunks;
}

function splits(bytes: Uint8Array): Array<[string, Uint8Array[]]> {
  return [
    ["all at once", [bytes]],
    ["one byte at a time", Array.from(bytes, (b) => Uint8Array.of(b))],
    ...[1, 2, 3, 4, 5].map((seed): [string, Uint8Array[]] => [
      `random split, seed ${seed}`,
      randomSplit(bytes, seed, 9),
    ]),
  ];
}

/** Reads the frames of `FRAMES`, copying each before the next read. */
async function readFrames(reader: FrameReader): Promise<string[]> {
  const frames: string[] = [];
  for (const length of FRAMES) {
    frames.push(toHex(await reader.readExact(length)));
  }
  return frames;
}

function expectedFrames(): string[] {
  const frames: string[] = [];
  let offset = 0;
  for (const length of FRAMES) {
    frames.push(toHex(WIRE.subarray(offset, offset + length)));
    offset += length;
  }
  return frames;
}

/** What rest() returned and what the source still holds, in wire order. */
function joined(...parts: string[]): string {
  return parts.filter((s) => s).join(" ");
}

Deno.test("FrameReader.readExact() assembles frames when the source is segmented in any way", async (t) => {
  for (const [name, chunks] of splits(WIRE)) {
    for (const greedy of [true, false]) {
      await t.step(`${name}, greedy ${greedy}`, async () => {
        const source = new ChunkSource(chunks);
        const reader = new FrameReader(source, { greedy });
        assert.deepStrictEqual(await readFrames(reader), expectedFrames());
        // The payload comes back, from rest() and the source together.
        assert.equal(joined(toHex(reader.rest()), source.remaining()), PAYLOAD);
      });
    }
  }
});

Deno.test("FrameReader works with the frame codecs when a client pipelines a whole handshake", async (t) => {
  for (const [name, chunks] of splits(WIRE)) {
    await t.step(name, async () => {
      const source = new ChunkSource(chunks);
      const reader = new FrameReader(source);
      assert.equal(toHex(await readGreeting(reader)), "00 02");
      const login = await readUserPassRequest(reader);
      assert.equal(login.username, "alice");
      assert.equal(new TextDecoder().decode(login.password), "s3cret");
      assert.deepStrictEqual(await readRequest(reader), {
        command: Command.CONNECT,
        destination: {
          type: AddressType.DOMAIN,
          host: "example.org",
          port: 80,
        },
      });
      assert.equal(joined(toHex(reader.rest()), source.remaining()), PAYLOAD);
    });
  }
});

Deno.test("FrameReader.rest() returns the pipelined bytes when they arrived with the frames", async () => {
  const source = new ChunkSource([WIRE]);
  const reader = new FrameReader(source);
  await readFrames(reader);
  assert.equal(toHex(reader.rest()), PAYLOAD);
  assert.equal(source.remaining(), "");
  // The bytes are forgotten once handed out.
  assert.equal(reader.rest().length, 0);
});

Deno.test("FrameReader.rest() returns an empty copy when nothing is buffered", async (t) => {
  await t.step("after a frame", async () => {
    const source = new ChunkSource([hex("05 01 00")]);
    const reader = new FrameReader(source);
    assert.equal(toHex(await reader.readExact(3)), "05 01 00");
    const rest = reader.rest();
    assert.equal(rest.length, 0);
    assert.equal(rest.buffer.byteLength, 0);
  });
  await t.step("before any read", () => {
    const source = new ChunkSource([hex("05 01 00")]);
    const reader = new FrameReader(source);
    assert.equal(reader.rest().length, 0);
    assert.equal(source.reads, 0);
    assert.equal(source.remaining(), "05 01 00");
  });
});

Deno.test("FrameReader.rest() returns a copy when the reader is reused afterwards", async () => {
  const source = new ChunkSource([
    hex("05 01 00 aa bb"),
    hex("01 02 03 04 05"),
  ]);
  const reader = new FrameReader(source);
  assert.equal(toHex(await reader.readExact(3)), "05 01 00");
  const rest = reader.rest();
  assert.equal(rest.byteOffset, 0);
  assert.equal(rest.buffer.byteLength, 2);
  assert.equal(toHex(rest), "aa bb");
  // The next read refills the reader's buffer from its start.
  assert.equal(toHex(await reader.readExact(5)), "01 02 03 04 05");
  assert.equal(toHex(rest), "aa bb");
  assert.equal(reader.rest().length, 0);
});

Deno.test("FrameReader.readExact() never reads past the frame when greedy is false", async (t) => {
  for (const [name, chunks] of splits(WIRE)) {
    await t.step(name, async () => {
      const source = new ChunkSource(chunks);
      const reader = new FrameReader(source, { greedy: false });
      for (const [i, length] of FRAMES.entries()) {
        const before = source.reads;
        assert.equal(
          toHex(await reader.readExact(length)),
          expectedFrames()[i],
        );
        // Each read asks for exactly the bytes the frame still lacks.
        let missing = length;
        for (let read = before; read < source.reads; read++) {
          assert.equal(source.asked[read], missing);
          missing -= source.got[read] ?? 0;
        }
        assert.equal(missing, 0);
      }
      assert.equal(reader.rest().length, 0);
      // The payload is still in the source, for the caller's own reads.
      assert.equal(source.remaining(), PAYLOAD);
    });
  }
});

Deno.test("FrameReader.readExact() asks only for the missing bytes when greedy is false", async () => {
  const source = new ChunkSource(
    [hex("05 01"), hex("00"), hex("05 02 00 02 ff")],
  );
  const reader = new FrameReader(source, { greedy: false });
  assert.equal(toHex(await reader.readExact(3)), "05 01 00");
  assert.equal(toHex(await reader.readExact(4)), "05 02 00 02");
  assert.deepStrictEqual(source.asked, [3, 1, 4]);
  assert.equal(source.remaining(), "ff");
});

Deno.test("FrameReader with greedy true reads ahead in one read when the bytes are there", async () => {
  const source = new ChunkSource([WIRE]);
  const reader = new FrameReader(source);
  await readFrames(reader);
  assert.equal(source.reads, 1);
  assert.deepStrictEqual(source.asked, [1024]);
  assert.equal(toHex(reader.rest()), PAYLOAD);
  assert.equal(source.remaining(), "");
});

Deno.test("FrameReader with greedy true does not read when the frame is buffered", async () => {
  const source = new ChunkSource([hex("05 01 00 05 02")]);
  const reader = new FrameReader(source);
  assert.equal(toHex(await reader.readExact(3)), "05 01 00");
  assert.equal(toHex(await reader.readExact(2)), "05 02");
  assert.equal(source.reads, 1);
});

Deno.test("FrameReader.readExact() keeps frames intact when the buffer wraps many times", async (t) => {
  // 400 frames of 7 bytes: far more than the 1024-byte buffer holds.
  const frames = Array.from(
    { length: 400 },
    (_, i) => Uint8Array.of(i >> 8, i & 0xff, 1, 2, 3, 4, 0xee),
  );
  const wire = new Uint8Array(frames.length * 7);
  frames.forEach((frame, i) => wire.set(frame, i * 7));
  for (
    const [name, chunks] of [
      ["all at once", [wire]],
      ...splits(wire).slice(2),
    ] as Array<[string, Uint8Array[]]>
  ) {
    for (const greedy of [true, false]) {
      await t.step(`${name}, greedy ${greedy}`, async () => {
        const source = new ChunkSource(chunks);
        const reader = new FrameReader(source, { greedy });
        for (const frame of frames) {
          assert.equal(toHex(await reader.readExact(7)), toHex(frame));
        }
        assert.equal(reader.rest().length, 0);
        assert.equal(source.remaining(), "");
        for (const size of source.asked) assert.ok(size <= 1024);
      });
    }
  }
});

Deno.test("FrameReader.readExact() reads 1024 bytes when a frame is that long", async (t) => {
  const wire = Uint8Array.from({ length: 1030 }, (_, i) => i & 0xff);
  for (
    const [name, chunks] of [
      ["all at once", [wire]],
      ["random split", randomSplit(wire, 7, 100)],
    ] as Array<[string, Uint8Array[]]>
  ) {
    for (const greedy of [true, false]) {
      await t.step(`${name}, greedy ${greedy}`, async () => {
        const source = new ChunkSource(chunks);
        const reader = new FrameReader(source, { greedy });
        assert.equal(toHex(await reader.readExact(3)), "00 01 02");
        assert.equal(
          toHex(await reader.readExact(1024)),
          toHex(wire.subarray(3, 1027)),
        );
        assert.equal(
          joined(toHex(reader.rest()), source.remaining()),
          "03 04 05",
        );
      });
    }
  }
});

Deno.test("FrameReader.readExact() throws RangeError when the length is out of range", async (t) => {
  for (const length of [0, -1, 1025]) {
    await t.step(`${length}`, async () => {
      const source = new ChunkSource([hex("05")]);
      const reader = new FrameReader(source);
      await assert.rejects(reader.readExact(length), {
        name: "RangeError",
        message: `Frame length must be 1-1024, got ${length}`,
      });
      assert.equal(source.reads, 0);
    });
  }
});

Deno.test("FrameReader.readExact() throws UnexpectedEof when the source ends early", async (t) => {
  const cases: Array<[string, Uint8Array[]]> = [
    ["empty source", []],
    ["mid-frame, one chunk", [hex("05 01")]],
    ["mid-frame, byte by byte", [hex("05"), hex("01")]],
  ];
  for (const [name, chunks] of cases) {
    for (const greedy of [true, false]) {
      await t.step(`${name}, greedy ${greedy}`, async () => {
        const source = new ChunkSource(chunks);
        const reader = new FrameReader(source, { greedy });
        await assert.rejects(reader.readExact(3), UnexpectedEofError);
        assert.equal(source.reads, chunks.length + 1);
      });
    }
  }
});

Deno.test("FrameReader.readExact() throws UnexpectedEof when a later frame is cut off", async () => {
  const source = new ChunkSource([hex("05 01 00 05 01")]);
  const reader = new FrameReader(source);
  assert.equal(toHex(await reader.readExact(3)), "05 01 00");
  await assert.rejects(reader.readExact(4), {
    name: "UnexpectedEofError",
    message: "Stream ended 2 bytes before the frame's end",
  });
});

Deno.test("FrameReader.readExact() rethrows the source's error when the source fails", async (t) => {
  for (const greedy of [true, false]) {
    await t.step(`greedy ${greedy}`, async () => {
      const reset = new Deno.errors.ConnectionReset("Connection reset");
      const source = new ChunkSource([hex("05 01")], reset);
      const reader = new FrameReader(source, { greedy });
      await assert.rejects(reader.readExact(3), (error) => error === reset);
      assert.equal(source.reads, 2);
      // rest() still works in a finally block after the failure, and hands
      // back the partial frame.
      assert.equal(toHex(reader.rest()), "05 01");
      assert.equal(reader.rest().length, 0);
    });
  }
});

Deno.test("FrameReader.rest() works when the frame was cut off by EOF", async (t) => {
  for (const greedy of [true, false]) {
    await t.step(`greedy ${greedy}`, async () => {
      const source = new ChunkSource([hex("05 01 00"), hex("05")]);
      const reader = new FrameReader(source, { greedy });
      assert.equal(toHex(await reader.readExact(3)), "05 01 00");
      await assert.rejects(reader.readExact(2), UnexpectedEofError);
      // The partial frame is what was read past the last whole frame.
      assert.equal(toHex(reader.rest()), "05");
      assert.equal(reader.rest().length, 0);
      assert.equal(source.remaining(), "");
    });
  }
});

Deno.test("FrameReader.peek() returns the next bytes without consuming them", async (t) => {
  for (const [name, chunks] of splits(WIRE)) {
    await t.step(name, async () => {
      const reader = new FrameReader(new ChunkSource(chunks));
      assert.equal(toHex(await reader.peek(1)), "05");
      assert.equal(toHex(await reader.peek(3)), "05 02 00");
      // Every frame still comes out whole, from the first byte on.
      assert.deepEqual(await readFrames(reader), expectedFrames());
    });
  }
});

Deno.test("FrameReader.peek() throws UnexpectedEofError when the stream ends first", async () => {
  const reader = new FrameReader(new ChunkSource([hex("05")]));
  await assert.rejects(reader.peek(2), UnexpectedEofError);
});

Deno.test("FrameReader.readLine() returns lines with their LF, assembled from any split", async () => {
  const text = "first line\r\nsecond\nrest";
  for (const size of [1, 3, 100]) {
    let offset = 0;
    const bytes = new TextEncoder().encode(text);
    const reader = new FrameReader({
      read(buffer: Uint8Array) {
        if (offset >= bytes.length) return Promise.resolve(null);
        const n = Math.min(size, buffer.length, bytes.length - offset);
        buffer.set(bytes.subarray(offset, offset + n));
        offset += n;
        return Promise.resolve(n);
      },
    });
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    assert.equal(decode(await reader.readLine(100)), "first line\r\n");
    assert.equal(decode(await reader.readLine(100)), "second\n");
    assert.equal(decode(await reader.readExact(2)), "re");
    await assert.rejects(reader.readLine(100), UnexpectedEofError);
  }
});

Deno.test("FrameReader.readLine() grows past 1 KiB for a long line and refuses one over the limit", async () => {
  const long = "x".repeat(5000);
  const bytes = new TextEncoder().encode(`${long}\nnext\n${"y".repeat(300)}`);
  let offset = 0;
  const reader = new FrameReader({
    read(buffer: Uint8Array) {
      if (offset >= bytes.length) return Promise.resolve(null);
      const n = Math.min(700, buffer.length, bytes.length - offset);
      buffer.set(bytes.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  });
  assert.equal((await reader.readLine(8192)).length, 5001);
  assert.equal(new TextDecoder().decode(await reader.readLine(10)), "next\n");
  await assert.rejects(reader.readLine(200), /Line longer than 200 bytes/);
});
