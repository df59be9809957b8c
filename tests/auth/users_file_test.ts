import assert from "node:assert/strict";
import { parseUsersFile } from "../../src/auth/users_file.ts";

Deno.test("parseUsersFile() returns the users when the file is well formed", () => {
  assert.deepStrictEqual(
    parseUsersFile("alice:s3cret\nbob:hunter2\n"),
    new Map([["alice", "s3cret"], ["bob", "hunter2"]]),
  );
});

Deno.test("parseUsersFile() skips lines when they are comments or blank", () => {
  const text = [
    "# team accounts",
    "",
    "   ",
    "alice:s3cret",
    "  # indented comment: not:a:user",
    "\t",
    "bob:hunter2",
  ].join("\n");
  assert.deepStrictEqual(
    parseUsersFile(text),
    new Map([["alice", "s3cret"], ["bob", "hunter2"]]),
  );
});

Deno.test("parseUsersFile() strips the CR when lines end in CRLF", () => {
  assert.deepStrictEqual(
    parseUsersFile("# users\r\nalice:s3cret\r\n\r\nbob:hunter2\r\n"),
    new Map([["alice", "s3cret"], ["bob", "hunter2"]]),
  );
});

Deno.test("parseUsersFile() keeps every colon after the first when a password has them", () => {
  assert.deepStrictEqual(
    parseUsersFile("bob:pa:ss\ncarol:::\n"),
    new Map([["bob", "pa:ss"], ["carol", "::"]]),
  );
});

Deno.test("parseUsersFile() trims the name but keeps the password as written when they have spaces", () => {
  assert.deepStrictEqual(
    parseUsersFile("  alice  : s3cret \n"),
    new Map([["alice", " s3cret "]]),
  );
});

Deno.test("parseUsersFile() returns no users when the file is empty", () => {
  assert.equal(parseUsersFile("").size, 0);
  assert.equal(parseUsersFile("# nobody yet\n").size, 0);
});

Deno.test("parseUsersFile() accepts a last line when it has no newline", () => {
  assert.deepStrictEqual(
    parseUsersFile("alice:s3cret"),
    new Map([["alice", "s3cret"]]),
  );
});

Deno.test("parseUsersFile() throws SyntaxError naming the line without the password when a line is bad", async (t) => {
  const cases: Array<[string, string, string]> = [
    ["no colon", "alice:ok\nbob-SECRET\n", "Line 2"],
    ["empty name", "# c\n:SECRET\n", "Line 2"],
    ["blank name", "  :SECRET\n", "Line 1"],
    ["empty password", "alice:ok\n\nbob:\n", "Line 3"],
    ["empty password with CRLF", "bob:\r\n", "Line 1"],
  ];
  for (const [name, text, line] of cases) {
    await t.step(name, () => {
      assert.throws(() => parseUsersFile(text), (error: unknown) => {
        assert.ok(error instanceof SyntaxError);
        assert.equal(
          error.message,
          `${line} of the users file is not "name:password"`,
        );
        assert.ok(!error.message.includes("SECRET"));
        return true;
      });
    });
  }
});

Deno.test("parseUsersFile() throws SyntaxError naming the line and user when a name repeats", () => {
  assert.throws(
    () => parseUsersFile("alice:one-SECRET\n# again\nalice:two-SECRET\n"),
    (error: unknown) => {
      assert.ok(error instanceof SyntaxError);
      assert.equal(
        error.message,
        'Line 3 of the users file repeats user "alice"',
      );
      return true;
    },
  );
});
