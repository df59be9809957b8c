import assert from "node:assert/strict";
import {
  HASH_SCHEMES,
  hashPassword,
  hashScheme,
  verifyPasswordHash,
} from "../../src/auth/password_hash.ts";
import { UserCredentials } from "../../src/auth/user_credentials.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** `htpasswd -nbB NAME PASS`'s line, or null when htpasswd is missing. */
async function htpasswd(name: string, password: string) {
  try {
    const output = await new Deno.Command("htpasswd", {
      args: ["-nbB", "-C", "5", name, password],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(output.stdout).trim();
  } catch {
    return null;
  }
}

Deno.test("verifyPasswordHash() accepts htpasswd -B output (bcrypt $2y$)", async (t) => {
  const line = await htpasswd("bob", "b0b:pw");
  if (line === null) {
    if (Deno.env.get("CI") === "true") throw new Error("htpasswd is missing");
    t.step({
      name: "skipped: htpasswd (apache2-utils) missing",
      ignore: true,
      fn() {},
    });
    return;
  }
  const hash = line.slice("bob:".length);
  assert.match(hash, /^\$2y\$05\$/);
  assert.equal(hashScheme(hash), "bcrypt");
  assert.equal(await verifyPasswordHash(encode("b0b:pw"), hash), true);
  assert.equal(await verifyPasswordHash(encode("b0b:pX"), hash), false);
});

Deno.test("hashPassword() writes hashes verifyPasswordHash() accepts, for every scheme", async () => {
  for (const scheme of HASH_SCHEMES) {
    const hash = await hashPassword("s3cret pass", scheme);
    assert.equal(hashScheme(hash), scheme, hash);
    assert.equal(await verifyPasswordHash(encode("s3cret pass"), hash), true);
    assert.equal(await verifyPasswordHash(encode("s3cret pasS"), hash), false);
  }
  // A vector made by another implementation (Python's hashlib.scrypt,
  // N=16, r=8, p=1, salt "saltsaltsaltsalt").
  const scrypt =
    "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$5f/Vi+XRWGUNGScbsma6KJ4zLFIke/NJsrvr7lQLAyA";
  assert.equal(hashScheme(scrypt), "scrypt");
  assert.equal(await verifyPasswordHash(encode("password"), scrypt), true);
  assert.equal(await verifyPasswordHash(encode("passwore"), scrypt), false);
});

Deno.test("hashScheme() tells hashes from plaintext", () => {
  assert.equal(hashScheme("hunter2"), null);
  assert.equal(hashScheme("$2y$10$short"), null);
  assert.equal(hashScheme("$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA"), null);
  assert.equal(
    hashScheme(
      "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$qu7YaNBUVdA7W90s0oDV3Q/BGYy/YVhx+BlWYiF8kZ8",
    ),
    "argon2id",
  );
});

Deno.test("UserCredentials answers a warm user synchronously after the first login, and a wrong password never", async () => {
  const hash = await hashPassword("pw-alice", "bcrypt");
  const store = new UserCredentials(
    new Map([["alice", hash], ["plain", "pw-plain"]]),
  );
  assert.equal(store.hashedCount, 1);
  // Plaintext: synchronous, constant time.
  assert.equal(store.verify("plain", encode("pw-plain")), true);
  assert.equal(store.verify("plain", encode("pw-plaiN")), false);
  // Cold: a promise (the hash is checked).
  const cold = store.verify("alice", encode("pw-alice"));
  assert.ok(cold instanceof Promise);
  assert.equal(await cold, true);
  // Warm: a plain boolean from the digest cache.
  assert.equal(store.verify("alice", encode("pw-alice")), true);
  // A wrong password pays the full hash again, and fails.
  const wrong = store.verify("alice", encode("pw-alicE"));
  assert.ok(wrong instanceof Promise);
  assert.equal(await wrong, false);
  // Unknown users fail too.
  assert.equal(await store.verify("mallory", encode("pw-alice")), false);
  // A reload keeps warm users whose hash did not change.
  const next = new UserCredentials(new Map([["alice", hash]]), store.cacheKey);
  store.carryCache(next);
  assert.equal(next.verify("alice", encode("pw-alice")), true);
  const changed = new UserCredentials(
    new Map([["alice", await hashPassword("other", "bcrypt")]]),
    store.cacheKey,
  );
  store.carryCache(changed);
  assert.equal(await changed.verify("alice", encode("pw-alice")), false);
});
