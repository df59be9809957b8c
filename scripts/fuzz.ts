/**
 * `deno task fuzz --iterations N`: the property-based fuzzers of
 * `tests/hardening/fuzz_test.ts` with N runs per decoder property (and N /
 * 200 runs of eight scripted sessions each against live servers), outside
 * the normal test run. A failure prints fast-check's seed and path;
 * `deno task fuzz --seed S --path P --filter "<test name>"` replays it.
 *
 * @module
 */

import { parseArgs } from "node:util";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      iterations: { type: "string", default: "100000" },
      seed: { type: "string" },
      path: { type: "string" },
      filter: { type: "string" },
    },
  });
  const iterations = Number(values.iterations);
  if (!(Number.isInteger(iterations) && iterations > 0)) {
    console.error(`fuzz: --iterations must be a positive integer`);
    Deno.exit(2);
  }
  if (values.seed !== undefined && !Number.isInteger(Number(values.seed))) {
    console.error(`fuzz: --seed must be an integer`);
    Deno.exit(2);
  }
  const started = performance.now();
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--allow-run",
      ...(values.filter === undefined ? [] : ["--filter", values.filter]),
      new URL("../tests/hardening/fuzz_test.ts", import.meta.url).pathname,
    ],
    env: {
      FUZZ_ITERATIONS: String(iterations),
      ...(values.seed === undefined ? {} : { FUZZ_SEED: values.seed }),
      ...(values.path === undefined ? {} : { FUZZ_PATH: values.path }),
    },
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  console.error(
    `fuzz: ${iterations} iterations, ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s, ${result.success ? "no failure" : "FAILED"}`,
  );
  Deno.exit(result.code);
}
