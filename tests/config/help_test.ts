import assert from "node:assert/strict";
import { configTable, helpText, optionsTable } from "../../src/config/help.ts";
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

Deno.test("configTable() has one row per option but --config, plus groups and rules", () => {
  const rows = configTable().trim().split("\n").slice(2);
  const keyed = OPTIONS.filter((o) => o.flag !== "config");
  assert.equal(rows.length, keyed.length + 2);
  keyed.forEach((option, i) => {
    const key = option.section === "Limits"
      ? `limits.${option.flag}`
      : option.flag;
    assert.match(
      rows[i]!,
      new RegExp(`^\\| \`${key}\` +\\| .* \\| \`--${option.flag}\` +\\|$`),
    );
  });
  assert.match(rows.at(-1)!, /^\| `rules` /);
  // README carries this table between its markers (checked above too).
  const readme = Deno.readTextFileSync(
    new URL("../../README.md", import.meta.url),
  );
  assert.ok(readme.includes(configTable()));
});
