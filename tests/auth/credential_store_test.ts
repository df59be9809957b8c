import assert from "node:assert/strict";
import { StaticCredentials } from "../../src/auth/credential_store.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

Deno.test("StaticCredentials.verify() is true when the name and password match", async (t) => {
  await t.step("from a record", async () => {
    const store = new StaticCredentials({ alice: "s3cret", bob: "pa:ss" });
    assert.equal(await store.verify("alice", bytes("s3cret")), true);
    assert.equal(await store.verify("bob", bytes("pa:ss")), true);
  });
  await t.step("from a map", async () => {
    const store = new StaticCredentials(new Map([["ü", "pässwörd"]]));
    assert.equal(await store.verify("ü", bytes("pässwörd")), true);
  });
  await t.step("255-byte name and password", async () => {
    const name = "n".repeat(255);
    const password = "p".repeat(255);
    const store = new StaticCredentials({ [name]: password });
    assert.equal(await store.verify(name, bytes(password)), true);
  });
});

Deno.test("StaticCredentials.verify() is false when the password is wrong", async (t) => {
  const store = new StaticCredentials({ alice: "s3cret" });
  const cases: Array<[string, Uint8Array]> = [
    ["different", bytes("guess")],
    ["prefix", bytes("s3cre")],
    ["longer", bytes("s3cret!")],
    ["case", bytes("S3CRET")],
    ["empty", new Uint8Array(0)],
    ["another user's", bytes("hunter2")],
  ];
  for (const [name, password] of cases) {
    await t.step(name, async () => {
      assert.equal(await store.verify("alice", password), false);
    });
  }
});

Deno.test("StaticCredentials.verify() is false when the user is unknown", async (t) => {
  const store = new StaticCredentials({ alice: "s3cret" });
  await t.step("unknown name, a user's password", async () => {
    assert.equal(await store.verify("mallory", bytes("s3cret")), false);
  });
  await t.step("name differing in case", async () => {
    assert.equal(await store.verify("Alice", bytes("s3cret")), false);
  });
  await t.step("empty name", async () => {
    assert.equal(await store.verify("", bytes("s3cret")), false);
  });
  await t.step("inherited property name", async () => {
    assert.equal(await store.verify("__proto__", bytes("s3cret")), false);
    assert.equal(await store.verify("constructor", bytes("s3cret")), false);
  });
  await t.step("no users at all", async () => {
    const empty = new StaticCredentials({});
    assert.equal(empty.size, 0);
    assert.equal(await empty.verify("alice", bytes("s3cret")), false);
  });
});

Deno.test("StaticCredentials.size counts the users when constructed", () => {
  assert.equal(new StaticCredentials({ a: "1", b: "2", c: "3" }).size, 3);
});

Deno.test("StaticCredentials throws RangeError when a field does not fit RFC 1929", async (t) => {
  await t.step("256-byte name", () => {
    assert.throws(
      () => new StaticCredentials({ ["n".repeat(256)]: "x" }),
      { name: "RangeError", message: /^Username must be 1-255 bytes/ },
    );
  });
  await t.step("empty name", () => {
    assert.throws(() => new StaticCredentials({ "": "x" }), RangeError);
  });
  await t.step("256-byte password, not quoted", () => {
    const password = "ü".repeat(128);
    assert.throws(() => new StaticCredentials({ alice: password }), {
      name: "RangeError",
      message: 'Password of user "alice" must be 1-255 bytes',
    });
  });
  await t.step("empty password", () => {
    assert.throws(() => new StaticCredentials({ alice: "" }), RangeError);
  });
});
