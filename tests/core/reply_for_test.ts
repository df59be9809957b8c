import assert from "node:assert/strict";
import { describeReply, replyFor } from "../../src/core/reply_for.ts";
import { Reply } from "../../src/protocol/constants.ts";
import { ProtocolError, SocksError } from "../../src/protocol/errors.ts";
import { NetError, type NetErrorKind } from "../../src/runtime/net_error.ts";

Deno.test("replyFor() maps each network error kind to its reply code", async (t) => {
  const cases: Array<[NetErrorKind, number]> = [
    ["refused", 0x05],
    ["network_unreachable", 0x03],
    ["address_unavailable", 0x03],
    ["host_unreachable", 0x04],
    ["timed_out", 0x06],
    ["permission_denied", 0x02],
    ["aborted", 0x01],
    ["exhausted", 0x01],
    ["closed", 0x01],
    ["other", 0x01],
  ];
  for (const [kind, rep] of cases) {
    await t.step(`${kind} ⇒ ${rep.toString(16).padStart(2, "0")}`, () => {
      assert.equal(replyFor(new NetError(kind, "x")), rep);
    });
  }
});

Deno.test("replyFor() uses a SocksError's own code, 06 for a timeout, 01 otherwise", () => {
  assert.equal(replyFor(new SocksError(Reply.NOT_ALLOWED, "no")), 0x02);
  assert.equal(
    replyFor(new ProtocolError("bad", Reply.ADDRESS_TYPE_NOT_SUPPORTED)),
    0x08,
  );
  assert.equal(replyFor(new DOMException("late", "TimeoutError")), 0x06);
  assert.equal(replyFor(new DOMException("gone", "AbortError")), 0x01);
  // By kind, never by message text.
  assert.equal(replyFor(new Error("Connection refused")), 0x01);
  assert.equal(replyFor(null), 0x01);
});

Deno.test("describeReply() names assigned codes and marks the rest unassigned", () => {
  assert.equal(describeReply(0x05), "connection refused");
  assert.equal(describeReply(0x09), "unassigned reply 0x09");
});
