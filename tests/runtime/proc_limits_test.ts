import assert from "node:assert/strict";
import { parseMaxOpenFiles } from "../../src/runtime/proc_limits.ts";

const LIMITS =
  `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

Deno.test("parseMaxOpenFiles() reads the soft limit from /proc/self/limits text", () => {
  assert.equal(parseMaxOpenFiles(LIMITS), 1024);
});

Deno.test("parseMaxOpenFiles() returns null when the limit is unlimited or absent", () => {
  assert.equal(
    parseMaxOpenFiles(LIMITS.replace("1024   ", "unlimited")),
    null,
  );
  assert.equal(parseMaxOpenFiles("Max cpu time unlimited\n"), null);
});
