/**
 * The credential store built from users (a users file, `--user`, the
 * library's `users`): plaintext passwords checked in constant time, hashed
 * ones (bcrypt, scrypt, argon2id) checked once per user and then from a
 * keyed digest cache.
 *
 * @module
 */

import type { IHasher } from "hash-wasm";
import { type CredentialStore, StaticCredentials } from "./credential_store.ts";
import { hashScheme, verifyPasswordHash } from "./password_hash.ts";

/**
 * Users whose passwords may be hashes. A hash costs tens of milliseconds to
 * check, which would cut the connection rate of authenticated clients to a
 * few dozen per second; so after a user's first successful login the store
 * keeps a keyed BLAKE3 digest of the password (a MAC, like HMAC, under a
 * random key made per process), and later logins compare against that in
 * constant time (a few microseconds; `node:crypto`'s HMAC costs ten times
 * that on Deno).
 * The digest is useless outside this process: the key never leaves it. A
 * login whose digest differs goes through the full hash check again, so a
 * wrong password always costs the same.
 */
export class UserCredentials implements CredentialStore {
  #plain: StaticCredentials;
  #plainNames: Set<string>;
  #hashed = new Map<string, string>();
  #cache = new Map<string, Uint8Array>();
  #inflight = new Map<string, Promise<boolean>>();
  #hasher: IHasher | null = null;
  #loading: Promise<void> | null = null;
  #key: Uint8Array;
  #dummy: string | null = null;

  /**
   * Creates the store.
   *
   * @param users Username to password or hash.
   * @param cacheKey The digest key; a random one by default. Pass the old
   * store's {@linkcode UserCredentials.carryCache} result to keep warm
   * entries over a reload.
   */
  constructor(
    users: Record<string, string> | Map<string, string>,
    cacheKey?: Uint8Array,
  ) {
    const plain = new Map<string, string>();
    const entries = users instanceof Map ? users : Object.entries(users);
    for (const [name, stored] of entries) {
      if (hashScheme(stored) !== null) {
        this.#hashed.set(name, stored);
        this.#dummy ??= stored;
      } else plain.set(name, stored);
    }
    this.#plain = new StaticCredentials(plain);
    this.#plainNames = new Set(plain.keys());
    this.#key = cacheKey ?? crypto.getRandomValues(new Uint8Array(32));
  }

  /** How many users there are. */
  get size(): number {
    return this.#plain.size + this.#hashed.size;
  }

  /** How many users are hashed. */
  get hashedCount(): number {
    return this.#hashed.size;
  }

  /**
   * Moves the warm digests of users whose stored hash is unchanged into
   * `next` (a reload must not make every user pay the hash again).
   *
   * @param next The store that replaces this one.
   */
  carryCache(next: UserCredentials): void {
    if (next.#key !== this.#key) return;
    next.#hasher ??= this.#hasher;
    next.#loading ??= this.#loading;
    for (const [name, digest] of this.#cache) {
      if (next.#hashed.get(name) === this.#hashed.get(name)) {
        next.#cache.set(name, digest);
      }
    }
  }

  /** The HMAC key, to build a successor that can take over the cache. */
  get cacheKey(): Uint8Array {
    return this.#key;
  }

  /** Checks credentials: synchronous for plaintext and warm users. */
  verify(username: string, password: Uint8Array): boolean | Promise<boolean> {
    const stored = this.#hashed.get(username);
    if (stored === undefined) {
      if (this.#plainNames.has(username) || this.#dummy === null) {
        return this.#plain.verify(username, password);
      }
      // An unknown name costs a hash's time too, as a hashed user would.
      return verifyPasswordHash(password, this.#dummy).then(() => false);
    }
    if (this.#hasher === null) {
      // The WebAssembly hasher is still loading (the very first login).
      const copy = password.slice();
      return this.#hasherReady().then(() => this.verify(username, copy));
    }
    const digest = this.#digest(password);
    const cached = this.#cache.get(username);
    if (cached !== undefined && _equal(cached, digest)) return true;
    // Logins of one user with one password that arrive together (a client
    // opening many connections at once) share one hash check.
    const key = `${username}\u0000${_hex(digest)}`;
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const check = verifyPasswordHash(password.slice(), stored).then((ok) => {
      if (ok) this.#cache.set(username, digest);
      return ok;
    }).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, check);
    return check;
  }

  #hasherReady(): Promise<void> {
    // Imported here, on the first hashed login: see password_hash.ts.
    return this.#loading ??= import("hash-wasm").then(({ createBLAKE3 }) =>
      createBLAKE3(256, this.#key)
    ).then((hasher) => {
      this.#hasher = hasher;
    });
  }

  #digest(password: Uint8Array): Uint8Array {
    const hasher = this.#hasher!;
    hasher.init();
    hasher.update(password);
    return hasher.digest("binary");
  }
}

function _hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Compares two digests in time independent of where they differ. */
function _equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
