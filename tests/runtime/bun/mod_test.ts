import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { findBun } from "../../../scripts/bun.ts";
import { REQUIRE_ALL } from "../../_helpers/server_commands.ts";

const bun = findBun();
const CHECK = fileURLToPath(new URL("./_library_check.ts", import.meta.url));

Deno.test({
  name: "the Bun library entry serves and relays through its own client on Bun",
  ignore: bun === null && !REQUIRE_ALL,
  async fn() {
    assert.ok(bun, "the pinned Bun is not installed");
    const out = await new Deno.Command(bun, {
      args: [CHECK],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(result, { n: 2, answer: [5, 0] });
  },
});
