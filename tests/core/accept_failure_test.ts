import assert from "node:assert/strict";
import {
  ACCEPT_FAILURE_KINDS,
  acceptFailureAction,
} from "../../src/core/accept_failure.ts";

Deno.test("acceptFailureAction() skips failures of one connection and pauses on exhaustion", () => {
  for (
    const kind of [
      "aborted",
      "network_unreachable",
      "host_unreachable",
      "timed_out",
      "permission_denied",
    ] as const
  ) {
    assert.equal(acceptFailureAction(kind), "skip", kind);
  }
  assert.equal(acceptFailureAction("exhausted"), "pause");
  assert.equal(acceptFailureAction("other"), "pause");
  assert.equal(acceptFailureAction("closed"), "stop");
});

Deno.test("ACCEPT_FAILURE_KINDS lists every kind the accept loop counts", () => {
  assert.ok(ACCEPT_FAILURE_KINDS.includes("aborted"));
  assert.ok(ACCEPT_FAILURE_KINDS.includes("exhausted"));
  assert.ok(!ACCEPT_FAILURE_KINDS.includes("closed"));
});
