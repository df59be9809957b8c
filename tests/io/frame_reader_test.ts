import assert from "node:assert/strict";
import { FrameReader } from "../../src/io/frame_reader.ts";
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

/** How a stream hands out its chunks. */
type Delivery = "queued" | "pull" | "byob";

interface TestStream {
  stream: ReadableStream<Uint8Array>;
  /** How many times the source was pulled. */
  pulls(): number;
}

/**
 * A byte stream that delivers `chunks`, then closes.
 *
 * - `queued`: every chunk is enqueued up front, as when the data has already
 *   arrived.
 * - `pull`: one chunk per pull, as one network read each.
 * - `byob`: one chunk per pull written into the reader's own buffer through
 *   `byobRequest`, as `conn.readable` does; what does not fit waits for the
 *   next pull.
 */
function byteStream(chunks: Uint8Array[], delivery: Delivery): TestStream {
  const pending = chunks.map((c) => c.slice());
  let pulls = 0;
  const stream = new ReadableStream({
    type: "bytes",
    start(controller: ReadableByteStreamController) {
      if (delivery !== "queued") return;
      for (const chunk of pending) controller.enqueue(chunk);
      controller.close();
    },
    pull(controller: ReadableByteStreamController) {
      pulls++;
      const chunk = pending.shift();
      const request = controller.byobRequest;
      if (!chunk) {
        controller.close();
        request?.respond(0);
        return;
      }
      if (delivery === "byob" && request?.view) {
        const view = new Uint8Array(
          request.view.buffer,
          request.view.byteOffset,
          request.view.byteLength,
        );
        const length = Math.min(view.length, chunk.length);
        view.set(chunk.subarray(0, length));
        if (length < chunk.length) pending.unshift(chunk.subarray(length));
        request.respond(length);
        return;
      }
      controller.enqueue(chunk);
    },
  });
  return { stream, pulls: () => pulls };
}

/** Reads what is left in a stream, with a default reader. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<string> {
  const bytes: number[] = [];
  for await (const chunk of stream) bytes.push(...chunk);
  return toHex(Uint8Array.from(bytes));
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

Deno.test("FrameReader.readExact() assembles frames when the stream is segmented in any way", async (t) => {
  for (const delivery of ["queued", "pull", "byob"] as const) {
    for (const [name, chunks] of splits(WIRE)) {
      for (const greedy of [true, false]) {
        await t.step(`${delivery}, ${name}, greedy ${greedy}`, async () => {
          const { stream } = byteStream(chunks, delivery);
          const reader = new FrameReader(stream, { greedy });
          assert.deepStrictEqual(await readFrames(reader), expectedFrames());
          // The payload comes back, from release() and the stream together.
          const released = toHex(reader.release());
          const rest = await drain(stream);
          assert.equal([released, rest].filter((s) => s).join(" "), PAYLOAD);
        });
      }
    }
  }
});

Deno.test("FrameReader works with the frame codecs when a client pipelines a whole handshake", async (t) => {
  for (const [name, chunks] of splits(WIRE)) {
    await t.step(name, async () => {
      const { stream } = byteStream(chunks, "byob");
      const reader = new FrameReader(stream);
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
      const released = toHex(reader.release());
      const rest = await drain(stream);
      assert.equal([released, rest].filter((s) => s).join(" "), PAYLOAD);
    });
  }
});

Deno.test("FrameReader.release() returns the pipelined bytes when they arrived with the frames", async (t) => {
  for (const delivery of ["queued", "pull", "byob"] as const) {
    await t.step(delivery, async () => {
      const { stream } = byteStream([WIRE], delivery);
      const reader = new FrameReader(stream);
      await readFrames(reader);
      assert.equal(toHex(reader.release()), PAYLOAD);
      assert.equal(stream.locked, false);
      assert.equal(await drain(stream), "");
    });
  }
});

Deno.test("FrameReader.release() returns an empty copy when nothing is buffered", async () => {
  const { stream } = byteStream([hex("05 01 00")], "pull");
  const reader = new FrameReader(stream);
  assert.equal(toHex(await reader.readExact(3)), "05 01 00");
  const rest = reader.release();
  assert.equal(rest.length, 0);
  assert.equal(stream.locked, false);
  assert.equal(await drain(stream), "");
});

Deno.test("FrameReader.release() unlocks the stream when nothing was read", async () => {
  const { stream } = byteStream([hex("05 01 00")], "queued");
  const reader = new FrameReader(stream);
  assert.equal(stream.locked, true);
  assert.equal(reader.release().length, 0);
  assert.equal(await drain(stream), "05 01 00");
});

Deno.test("FrameReader.release() returns a copy when the reader is reused afterwards", async () => {
  const { stream } = byteStream([hex("05 01 00 aa bb")], "queued");
  const reader = new FrameReader(stream);
  await reader.readExact(3);
  const rest = reader.release();
  assert.equal(rest.byteOffset, 0);
  assert.equal(rest.buffer.byteLength, 2);
  assert.equal(toHex(rest), "aa bb");
});

Deno.test("FrameReader.readExact() never reads past the frame when greedy is false", async (t) => {
  for (const delivery of ["queued", "pull", "byob"] as const) {
    for (const [name, chunks] of splits(WIRE)) {
      await t.step(`${delivery}, ${name}`, async () => {
        const { stream } = byteStream(chunks, delivery);
        const reader = new FrameReader(stream, { greedy: false });
        assert.deepStrictEqual(await readFrames(reader), expectedFrames());
        assert.equal(reader.release().length, 0);
        assert.equal(await drain(stream), PAYLOAD);
      });
    }
  }
});

Deno.test("FrameReader with greedy true reads ahead in one read when the bytes are there", async () => {
  const { stream, pulls } = byteStream([WIRE], "pull");
  const reader = new FrameReader(stream);
  await readFrames(reader);
  assert.equal(pulls(), 1);
  assert.equal(toHex(reader.release()), PAYLOAD);
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
    for (const delivery of ["pull", "byob"] as const) {
      await t.step(`${delivery}, ${name}`, async () => {
        const { stream } = byteStream(chunks, delivery);
        const reader = new FrameReader(stream);
        for (const frame of frames) {
          assert.equal(toHex(await reader.readExact(7)), toHex(frame));
        }
        assert.equal(reader.release().length, 0);
      });
    }
  }
});

Deno.test("FrameReader.readExact() reads 1024 bytes when a frame is that long", async () => {
  const wire = Uint8Array.from({ length: 1030 }, (_, i) => i & 0xff);
  const { stream } = byteStream(randomSplit(wire, 7, 100), "byob");
  const reader = new FrameReader(stream);
  assert.equal(toHex(await reader.readExact(3)), "00 01 02");
  assert.equal(
    toHex(await reader.readExact(1024)),
    toHex(wire.subarray(3, 1027)),
  );
  const released = toHex(reader.release());
  const rest = await drain(stream);
  assert.equal([released, rest].filter((s) => s).join(" "), "03 04 05");
});

Deno.test("FrameReader.readExact() throws RangeError when the length is out of range", async (t) => {
  for (const length of [0, -1, 1025]) {
    await t.step(`${length}`, async () => {
      const { stream } = byteStream([hex("05")], "queued");
      const reader = new FrameReader(stream);
      await assert.rejects(reader.readExact(length), {
        name: "RangeError",
        message: `Frame length must be 1-1024, got ${length}`,
      });
      reader.release();
    });
  }
});

Deno.test("FrameReader.readExact() throws UnexpectedEof when the stream ends early", async (t) => {
  const cases: Array<[string, Uint8Array[]]> = [
    ["empty stream", []],
    ["mid-frame, one chunk", [hex("05 01")]],
    ["mid-frame, byte by byte", [hex("05"), hex("01")]],
  ];
  for (const delivery of ["queued", "pull", "byob"] as const) {
    for (const [name, chunks] of cases) {
      for (const greedy of [true, false]) {
        await t.step(`${delivery}, ${name}, greedy ${greedy}`, async () => {
          const { stream } = byteStream(chunks, delivery);
          const reader = new FrameReader(stream, { greedy });
          await assert.rejects(
            reader.readExact(3),
            Deno.errors.UnexpectedEof,
          );
          reader.release();
          assert.equal(stream.locked, false);
        });
      }
    }
  }
});

Deno.test("FrameReader.readExact() throws UnexpectedEof when a later frame is cut off", async () => {
  const { stream } = byteStream([hex("05 01 00 05 01")], "pull");
  const reader = new FrameReader(stream);
  assert.equal(toHex(await reader.readExact(3)), "05 01 00");
  await assert.rejects(reader.readExact(4), {
    name: "UnexpectedEof",
  });
  reader.release();
});

Deno.test("FrameReader.readExact() rethrows the stream's error when the stream fails", async (t) => {
  for (const greedy of [true, false]) {
    await t.step(`greedy ${greedy}`, async () => {
      const reset = new Deno.errors.ConnectionReset("Connection reset");
      let pulls = 0;
      const stream = new ReadableStream({
        type: "bytes",
        pull(controller: ReadableByteStreamController) {
          if (pulls++ === 0) controller.enqueue(hex("05 01"));
          else controller.error(reset);
        },
      });
      const reader = new FrameReader(stream, { greedy });
      await assert.rejects(reader.readExact(3), (error) => error === reset);
      // release() still works in a finally block after the failure.
      assert.equal(reader.release().length, 0);
      assert.equal(stream.locked, false);
    });
  }
});

Deno.test("FrameReader.release() works when the frame was cut off by EOF", async () => {
  const { stream } = byteStream([hex("05 01 00"), hex("05")], "byob");
  const reader = new FrameReader(stream);
  assert.equal(toHex(await reader.readExact(3)), "05 01 00");
  await assert.rejects(reader.readExact(2), Deno.errors.UnexpectedEof);
  assert.equal(reader.release().length, 0);
  assert.equal(stream.locked, false);
});
