/**
 * The first half of `deno task test`: installs the pinned Bun when missing
 * and builds the single executable from the current source, so the
 * process-level suites can run against all three server commands (Deno,
 * Bun, the executable). Without network access to npm this warns and goes
 * on (those runs are then skipped), except under `CI=true`, where it fails.
 *
 * @module
 */

import { build } from "./build.ts";

if (import.meta.main) {
  try {
    await build();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (Deno.env.get("CI") === "true") {
      console.error(`test setup: ${message}`);
      Deno.exit(1);
    }
    console.error(
      `test setup: ${message}; the Bun and executable runs will be skipped`,
    );
  }
}
