/**
 * The shape of `src/` holds: only `src/runtime/<name>/` touches a runtime's
 * globals (`Deno.*`, `Bun.*`, `bun:` modules), so the core, the protocol
 * codecs and everything else are runtime-neutral; and no module imports
 * itself through a cycle.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
/** A property access on a runtime global, or a Bun-only module. */
const RUNTIME_GLOBAL = /\b(?:Deno|Bun)\.[A-Za-z_$]|["']bun(?::[a-z]+)?["']/;

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(`${path}/`);
    else if (/\.(ts|js|mjs)$/.test(entry.name)) yield path;
  }
}

Deno.test("no file outside src/runtime/<name>/ uses Deno.* or Bun.*", () => {
  const offenders: string[] = [];
  let checked = 0;
  for (const path of sourceFiles(SRC)) {
    const relative = path.slice(SRC.length);
    if (/^runtime\/[^/]+\//.test(relative)) continue;
    checked++;
    const lines = Deno.readTextFileSync(path).split("\n");
    lines.forEach((line, i) => {
      if (RUNTIME_GLOBAL.test(line)) {
        offenders.push(`src/${relative}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.ok(checked > 30, `only ${checked} files checked`);
  assert.deepEqual(offenders, []);
});

Deno.test("the runtime-global pattern catches what it must", () => {
  for (
    const line of ["Deno.listen({", "await Bun.connect(", 'from "bun:ffi"']
  ) {
    assert.ok(RUNTIME_GLOBAL.test(line), line);
  }
  for (
    const line of ["on Deno. (On Bun", "Deno and Bun", "a Bun.", "bun run"]
  ) {
    assert.ok(!RUNTIME_GLOBAL.test(line), line);
  }
});

/** The relative imports of one module, resolved to paths under `src/`. */
function importsOf(path: string): string[] {
  // Doc comments hold runnable examples that import their own module.
  const text = Deno.readTextFileSync(path).replace(/\/\*[\s\S]*?\*\//g, "");
  const dir = path.slice(0, path.lastIndexOf("/") + 1);
  const out: string[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)) {
    out.push(new URL(match[1]!, `file://${dir}`).pathname);
  }
  return out;
}

Deno.test("src/ has no import cycle", () => {
  const graph = new Map<string, string[]>();
  for (const path of sourceFiles(SRC)) graph.set(path, importsOf(path));
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (node: string, stack: string[]) => {
    if (state.get(node) === "done") return;
    if (state.get(node) === "open") {
      const cycle = stack.slice(stack.indexOf(node));
      cycles.push(
        [...cycle, node].map((p) => p.slice(SRC.length)).join(" -> "),
      );
      return;
    }
    state.set(node, "open");
    for (const next of graph.get(node) ?? []) {
      if (graph.has(next)) visit(next, [...stack, node]);
    }
    state.set(node, "done");
  };
  for (const node of graph.keys()) visit(node, []);
  assert.ok(graph.size > 30, `only ${graph.size} modules`);
  assert.deepEqual(cycles, []);
});
