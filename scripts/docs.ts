/**
 * `deno task docs`: rewrites README's flag table and its config-file
 * reference from the option table (`src/config/options.ts`), between the
 * `options:begin`/`options:end` and `config:begin`/`config:end` markers. `tests/config/help_test.ts` fails while README disagrees.
 *
 * @module
 */

import { configTable, optionsTable } from "../src/config/help.ts";

/** The markers around the generated table. */
export const BEGIN = "<!-- options:begin (deno task docs) -->";
/** The end marker. */
export const END = "<!-- options:end -->";
/** The markers around the generated config-file reference. */
export const CONFIG_BEGIN = "<!-- config:begin (deno task docs) -->";
/** Its end marker. */
export const CONFIG_END = "<!-- config:end -->";

/**
 * Replaces the table between the markers.
 *
 * @param readme README's text.
 * @returns The text with the current table.
 * @throws {Error} When the markers are missing.
 */
export function withOptionsTable(readme: string): string {
  return _between(
    _between(readme, BEGIN, END, optionsTable()),
    CONFIG_BEGIN,
    CONFIG_END,
    configTable(),
  );
}

function _between(
  readme: string,
  begin: string,
  end: string,
  table: string,
): string {
  const start = readme.indexOf(begin);
  const stop = readme.indexOf(end);
  if (start < 0 || stop < start) {
    throw new Error(`README lacks the ${begin} ... ${end} markers`);
  }
  return readme.slice(0, start + begin.length) + "\n\n" + table + "\n" +
    readme.slice(stop);
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url);
  const before = Deno.readTextFileSync(path);
  const after = withOptionsTable(before);
  if (after !== before) Deno.writeTextFileSync(path, after);
  console.log(after === before ? "README is up to date" : "README updated");
}
