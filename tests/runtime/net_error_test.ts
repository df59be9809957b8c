import assert from "node:assert/strict";
import {
  NetError,
  netErrorKindOf,
  toNetError,
} from "../../src/runtime/net_error.ts";

Deno.test("netErrorKindOf() maps POSIX codes to kinds", () => {
  assert.equal(netErrorKindOf("ECONNREFUSED"), "refused");
  assert.equal(netErrorKindOf("ENETUNREACH"), "network_unreachable");
  assert.equal(netErrorKindOf("EHOSTUNREACH"), "host_unreachable");
  assert.equal(netErrorKindOf("ETIMEDOUT"), "timed_out");
  assert.equal(netErrorKindOf("ENOTCONN"), "aborted");
  assert.equal(netErrorKindOf("EMFILE"), "exhausted");
  assert.equal(netErrorKindOf("EWHATEVER"), "other");
  assert.equal(netErrorKindOf(undefined), "other");
});

Deno.test("toNetError() keeps the code and cause, and passes NetError and DOMException through", () => {
  const raw = Object.assign(new Error("connect ECONNREFUSED"), {
    code: "ECONNREFUSED",
  });
  const converted = toNetError(raw);
  assert.ok(converted instanceof NetError);
  assert.equal(converted.kind, "refused");
  assert.equal(converted.code, "ECONNREFUSED");
  assert.equal(converted.cause, raw);
  const already = new NetError("closed", "x");
  assert.equal(toNetError(already), already);
  const abort = new DOMException("late", "TimeoutError");
  assert.equal(toNetError(abort), abort);
  const closed = toNetError(new Error("bad resource"), true);
  assert.ok(closed instanceof NetError && closed.kind === "closed");
});
