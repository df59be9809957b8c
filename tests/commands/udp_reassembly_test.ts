import assert from "node:assert/strict";
import { UdpReassembler } from "../../src/commands/udp_reassembly.ts";
import { toSocksAddress } from "../../src/protocol/address.ts";

const dst = toSocksAddress("127.0.0.1", 5353);
const other = toSocksAddress("127.0.0.1", 5354);
const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("push() reassembles fragments 1, 2, 3|0x80 in order into one payload", () => {
  const q = new UdpReassembler();
  assert.deepEqual(q.push(1, dst, bytes(1, 2), 0), {
    abandoned: 0,
    kind: "queued",
  });
  const part = bytes(3);
  assert.equal(q.push(2, dst, part, 10).kind, "queued");
  part[0] = 99; // The queue kept a copy.
  assert.deepEqual(q.push(0x83, dst, bytes(4, 5), 20), {
    abandoned: 0,
    kind: "complete",
    address: dst,
    data: bytes(1, 2, 3, 4, 5),
  });
  assert.equal(q.queued, 0);
  // A single fragment that is also the last: 0x81.
  assert.deepEqual(q.push(0x81, dst, bytes(7), 30), {
    abandoned: 0,
    kind: "complete",
    address: dst,
    data: bytes(7),
  });
});

Deno.test("push() abandons a sequence after the 5 s timer, not before", () => {
  const q = new UdpReassembler();
  q.push(1, dst, bytes(1), 1_000);
  assert.equal(q.push(2, dst, bytes(2), 5_999).kind, "queued");
  // 5 s after the first fragment: the queue is reinitialized, and position
  // 3 cannot start a sequence.
  assert.deepEqual(q.push(0x83, dst, bytes(3), 6_000), {
    abandoned: 2,
    kind: "dropped",
    reason: "reassembly",
  });
  assert.equal(q.queued, 0);
  assert.throws(() => new UdpReassembler({ timeoutMs: 4_999 }), RangeError);
});

Deno.test("push() reinitializes on a repeated, lower or skipped position and on another destination", () => {
  const q = new UdpReassembler();
  q.push(1, dst, bytes(1), 0);
  q.push(2, dst, bytes(2), 0);
  // Duplicate of 2: lower-or-equal to the highest, the queue restarts.
  assert.deepEqual(q.push(2, dst, bytes(2), 0), {
    abandoned: 2,
    kind: "dropped",
    reason: "reassembly",
  });
  // Position 1 starts a new sequence after a reset.
  q.push(1, dst, bytes(1), 0);
  assert.deepEqual(q.push(3, dst, bytes(3), 0), {
    abandoned: 1,
    kind: "dropped",
    reason: "reassembly",
  });
  q.push(1, dst, bytes(1), 0);
  assert.equal(q.push(2, other, bytes(2), 0).kind, "dropped");
  // A new 1 while a sequence is open restarts from it.
  q.push(1, dst, bytes(9), 0);
  assert.deepEqual(q.push(1, dst, bytes(1), 0), {
    abandoned: 1,
    kind: "queued",
  });
  assert.deepEqual(q.push(0x82, dst, bytes(2), 0), {
    abandoned: 0,
    kind: "complete",
    address: dst,
    data: bytes(1, 2),
  });
  assert.deepEqual(q.push(0x80, dst, bytes(1), 0), {
    abandoned: 0,
    kind: "dropped",
    reason: "reassembly",
  });
});

Deno.test("push() drops a sequence that outgrows the size cap; standalone() abandons the queue", () => {
  const q = new UdpReassembler({ maxBytes: 4 });
  q.push(1, dst, bytes(1, 2, 3), 0);
  assert.deepEqual(q.push(2, dst, bytes(4, 5), 0), {
    abandoned: 1,
    kind: "dropped",
    reason: "oversized",
  });
  assert.equal(q.push(0x81, dst, bytes(1, 2, 3, 4), 0).kind, "complete");
  q.push(1, dst, bytes(1), 0);
  q.push(2, dst, bytes(1), 0);
  assert.equal(q.standalone(), 2);
  assert.equal(q.standalone(), 0);
});
