import assert from "node:assert/strict";
import { helpText, optionsTable } from "../../src/config/help.ts";
import { OPTIONS } from "../../src/config/options.ts";
import { withOptionsTable } from "../../scripts/docs.ts";

Deno.test("README's flag table is the one the option table renders", () => {
  const readme = Deno.readTextFileSync(
    new URL("../../README.md", import.meta.url),
  );
  assert.equal(
    readme,
    withOptionsTable(readme),
    "README's flag table is stale: run `deno task docs`",
  );
});

Deno.test("helpText() lists every option with its default when rendered", () => {
  const text = helpText("socks5-deno");
  for (const option of OPTIONS) {
    assert.match(text, new RegExp(`\\n  --${option.flag}\\b`), option.flag);
  }
  assert.match(text, /^Usage: socks5-deno \[options\]$/m);
  assert.ok(
    text.split("\n").every((line) => line.length <= 80),
    "a line is wider than 80 columns",
  );
});

Deno.test("optionsTable() has one row per option plus help and version", () => {
  const rows = optionsTable().trim().split("\n");
  assert.equal(rows.length, 2 + OPTIONS.length + 1);
  assert.match(rows[2]!, /^\| `--config FILE` +\| /);
  assert.match(rows[3]!, /^\| `--listen HOST:PORT` +\| /);
});
