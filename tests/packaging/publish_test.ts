/**
 * What `deno publish` would upload: the library only (no tests, scripts,
 * CI files or the CLI), with its license, and entry points that load no
 * more than they need.
 *
 * @module
 */

import assert from "node:assert/strict";
import { VERSION } from "../../src/config/cli.ts";
import { REPO_ROOT, runInRepo } from "../_helpers/server_commands.ts";

const config = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`));

/** Runs `deno ARGS` in the repository; standard output, then standard error. */
async function deno(args: string[]): Promise<{ code: number; text: string }> {
  const { code, stdout, stderr } = await runInRepo(Deno.execPath(), args);
  return { code, text: stdout + stderr };
}

/** The repository files of an entry point's module graph. */
async function graph(entry: string): Promise<string[]> {
  const { code, text } = await deno(["info", "--json", entry]);
  assert.equal(code, 0, text);
  const info = JSON.parse(text.slice(text.indexOf("{")));
  return info.modules
    .map((m: { specifier: string }) => m.specifier)
    .filter((s: string) => s.startsWith("file://"))
    .map((s: string) => s.slice(`file://${REPO_ROOT}`.length))
    .sort();
}

Deno.test("deno.json declares the MIT license, LICENSE exists, and the version is --version's", async () => {
  assert.equal(config.license, "MIT");
  assert.match(await Deno.readTextFile(`${REPO_ROOT}LICENSE`), /^MIT License/);
  assert.equal(config.version, VERSION);
});

Deno.test("deno publish --dry-run passes and would upload the library only", async () => {
  const { code, text } = await deno(["publish", "--dry-run", "--allow-dirty"]);
  assert.equal(code, 0, text);
  const files = [...text.matchAll(/file:\/\/\S+/g)].map((m) =>
    m[0].slice(`file://${REPO_ROOT}`.length)
  );
  for (const wanted of ["LICENSE", "README.md", "deno.json", "src/mod.ts"]) {
    assert.ok(files.includes(wanted), `${wanted} missing from:\n${text}`);
  }
  for (const file of files) {
    assert.match(
      file,
      /^(LICENSE|README\.md|deno\.json|docs\/status-page\.png|src\/.+\.ts)$/,
      file,
    );
    assert.doesNotMatch(file, /^src\/(cli|config)\//, file);
  }
  assert.ok(!files.some((f) => f.startsWith("tests/")));
});

Deno.test("the ./client entry loads neither the server nor the admin listener", async () => {
  assert.equal(config.exports["./client"], "./src/client/mod.ts");
  const files = await graph("src/client/mod.ts");
  assert.ok(files.includes("src/client/connect.ts"), files.join("\n"));
  for (const file of files) {
    assert.doesNotMatch(
      file,
      /^src\/(core\/(server|session)|admin|commands|frontends|outbound)/,
      `the client entry loads ${file}`,
    );
  }
  assert.ok(!files.includes("src/core/server.ts"));
});

Deno.test("the ./protocol entry loads the codecs only", async () => {
  assert.equal(config.exports["./protocol"], "./src/protocol/mod.ts");
  const files = await graph("src/protocol/mod.ts");
  assert.ok(files.includes("src/protocol/request.ts"), files.join("\n"));
  for (const file of files) assert.match(file, /^src\/protocol\//);
});
