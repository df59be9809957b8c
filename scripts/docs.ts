/**
 * `deno task docs`: rewrites README's flag table from the option table
 * (`src/config/options.ts`), between the `options:begin` and `options:end`
 * markers. `tests/config/help_test.ts` fails while README disagrees.
 *
 * @module
 */

import { optionsTable } from "../src/config/help.ts";

/** The markers around the generated table. */
export const BEGIN = "<!-- options:begin (deno task docs) -->";
/** The end marker. */
export const END = "<!-- options:end -->";

/**
 * Replaces the table between the markers.
 *
 * @param readme README's text.
 * @returns The text with the current table.
 * @throws {Error} When the markers are missing.
 */
export function withOptionsTable(readme: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) {
    throw new Error(`README lacks the ${BEGIN} ... ${END} markers`);
  }
  return readme.slice(0, start + BEGIN.length) + "\n\n" + optionsTable() +
    "\n" + readme.slice(end);
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url);
  const before = Deno.readTextFileSync(path);
  const after = withOptionsTable(before);
  if (after !== before) Deno.writeTextFileSync(path, after);
  console.log(after === before ? "README is up to date" : "README updated");
}
