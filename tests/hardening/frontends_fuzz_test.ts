/**
 * Random and half-valid SOCKS4, HTTP and PROXY protocol input (fast-check)
 * against a server whose rules refuse every destination and whose outbound
 * route never dials: whatever arrives, the answer is nothing or one
 * complete, well-formed refusal in the client's protocol, and the server
 * goes on serving.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import type { Outbound } from "../../src/outbound/outbound.ts";
import { startServer } from "../_helpers/test_server.ts";
import { readUntilClosed } from "./_bounded.ts";
import { within } from "../_helpers/wait.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Nothing leaves the machine, whatever a script manages to ask for. */
const NO_DIAL: Outbound = {
  connect: () => Promise.reject(new Error("the fuzz server never dials")),
  bind: () => Promise.reject(new Error("the fuzz server never binds")),
  udp: () => Promise.reject(new Error("the fuzz server never relays UDP")),
};
const DENY_ALL = { permits: () => false, permitsAddress: () => false };

/** Sends `bytes`, half-closes, returns everything until the server closes. */
async function exchange(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    try {
      let written = 0;
      while (written < bytes.length) {
        written += await conn.write(bytes.subarray(written));
      }
      await conn.closeWrite();
    } catch {
      // The server may close first (a refusal): what it sent still counts.
    }
    return (await within(readUntilClosed(conn, 1 << 16), 5_000, "reply"))
      .bytes;
  } finally {
    conn.close();
  }
}

const noise = fc.uint8Array({ maxLength: 300 });

Deno.test("SOCKS4 garbage gets nothing or exactly 00 5B and a zero address", async () => {
  await using s = await startServer({
    ruleset: DENY_ALL,
    outbound: NO_DIAL,
    timeouts: { handshake: 300 },
  });
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(1, 2, 3, 0, 255),
      noise,
      async (command, rest) => {
        const reply = await exchange(
          s.addr.port,
          Uint8Array.of(4, command, ...rest),
        );
        return reply.length === 0 ||
          dec(reply) === dec(Uint8Array.of(0, 0x5b, 0, 0, 0, 0, 0, 0));
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("HTTP garbage gets nothing or one complete refusal, never a success", async () => {
  await using s = await startServer({
    ruleset: DENY_ALL,
    outbound: NO_DIAL,
    timeouts: { handshake: 300 },
  });
  const prefix = fc.constantFrom(
    "CONNECT ",
    "CONNECT 127.0.0.1:80 HTTP/1.1\r\n",
    "GET http://",
    "GET http://127.0.0.1/ HTTP/1.1\r\n",
    "POST http://127.0.0.1/ HTTP/1.1\r\nContent-Length: ",
    "PUT http://127.0.0.1/ HTTP/1.1\r\nTransfer-Encoding: ",
    "G",
    "Z",
  );
  const text = fc.string({ maxLength: 200 }).map(enc);
  const ending = fc.constantFrom("", "\r\n", "\r\n\r\n", "\n\n");
  await fc.assert(
    fc.asyncProperty(
      prefix,
      fc.oneof(text, noise),
      ending,
      async (start, middle, end) => {
        const reply = dec(
          await exchange(
            s.addr.port,
            Uint8Array.of(...enc(start), ...middle, ...enc(end)),
          ),
        );
        if (reply === "") return true;
        const match =
          /^HTTP\/1\.1 (400|403|431|501|505) [A-Za-z ]+\r\n(?:[^\r\n]+\r\n)*Content-Length: (\d+)\r\nConnection: close\r\n\r\n/
            .exec(reply);
        assert.ok(match, JSON.stringify(reply.slice(0, 300)));
        assert.equal(reply.length - match[0].length, Number(match[2]));
        return true;
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("a broken PROXY header from a trusted source gets no byte back", async () => {
  await using s = await startServer({
    ruleset: DENY_ALL,
    outbound: NO_DIAL,
    proxyProtocolFrom: ["127.0.0.0/8"],
    timeouts: { handshake: 300 },
  });
  const v1 = fc.uint8Array({ maxLength: 120 })
    .map((b) => b.filter((x) => x !== 0x0a))
    .map((b) => Uint8Array.of(...enc("PROXY "), ...b));
  // Signature, then a version nibble other than 2, then anything.
  const v2 = fc.tuple(fc.integer({ min: 0, max: 255 }), noise)
    .filter(([verCmd]) => verCmd >> 4 !== 2)
    .map(([verCmd, rest]) =>
      Uint8Array.of(
        0x0d,
        0x0a,
        0x0d,
        0x0a,
        0x00,
        0x0d,
        0x0a,
        0x51,
        0x55,
        0x49,
        0x54,
        0x0a,
        verCmd,
        ...rest,
      )
    );
  await fc.assert(
    fc.asyncProperty(fc.oneof(v1, v2, noise), async (bytes) => {
      const reply = await exchange(s.addr.port, bytes);
      return reply.length === 0;
    }),
    { numRuns: 150 },
  );
});
