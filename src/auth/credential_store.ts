/**
 * The credential hook and its default: a fixed set of users, checked in
 * constant time.
 *
 * @module
 */

/** Checks RFC 1929 credentials. */
export interface CredentialStore {
  /**
   * Checks one username and password.
   *
   * Implementations must take the same path whether or not the user exists,
   * so a failure reveals nothing about which part was wrong.
   *
   * @param username The username as sent.
   * @param password The password bytes as sent.
   * @returns Whether they match.
   */
  verify(username: string, password: Uint8Array): boolean | Promise<boolean>;
}

/**
 * Users and passwords held in memory. Passwords are kept only as HMAC-SHA256
 * digests (Web Crypto) under a random key made at start-up; a check computes
 * the digest of the offered password and compares all 32 bytes with a
 * branch-free loop, so the time taken does not depend on where the passwords
 * differ, on their lengths, or on whether the user exists (an unknown user is
 * compared against a dummy digest).
 *
 * @example
 * ```ts
 * import { StaticCredentials } from "./credential_store.ts";
 * const store = new StaticCredentials({ alice: "s3cret" });
 * await store.verify("alice", new TextEncoder().encode("s3cret")); // true
 * ```
 */
export class StaticCredentials implements CredentialStore {
  #key: Promise<CryptoKey>;
  #digests = new Map<string, Promise<Uint8Array>>();
  #dummy: Promise<Uint8Array>;

  /**
   * Creates a store from usernames and passwords.
   *
   * @param users Username to password.
   * @throws {RangeError} When a name or password is empty or longer than the
   * 255 bytes RFC 1929 can carry.
   */
  constructor(users: Record<string, string> | Map<string, string>) {
    const entries = users instanceof Map ? users : Object.entries(users);
    const encoder = new TextEncoder();
    this.#key = crypto.subtle.generateKey(
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    for (const [name, password] of entries) {
      const nameBytes = encoder.encode(name).length;
      const passBytes = encoder.encode(password).length;
      if (nameBytes < 1 || nameBytes > 255) {
        throw new RangeError(
          `Username must be 1-255 bytes, got ${JSON.stringify(name)}`,
        );
      }
      if (passBytes < 1 || passBytes > 255) {
        throw new RangeError(
          `Password of user ${JSON.stringify(name)} must be 1-255 bytes`,
        );
      }
      this.#digests.set(name, this.#digest(encoder.encode(password)));
    }
    this.#dummy = this.#digest(crypto.getRandomValues(new Uint8Array(32)));
  }

  /** How many users there are. */
  get size(): number {
    return this.#digests.size;
  }

  /** Checks credentials in constant time. */
  async verify(username: string, password: Uint8Array): Promise<boolean> {
    const expected = this.#digests.get(username);
    const offered = await this.#digest(password);
    const matches = _equal(offered, await (expected ?? this.#dummy));
    return matches && expected !== undefined;
  }

  async #digest(bytes: Uint8Array): Promise<Uint8Array> {
    const key = await this.#key;
    return new Uint8Array(
      await crypto.subtle.sign("HMAC", key, bytes as Uint8Array<ArrayBuffer>),
    );
  }
}

/** Compares two digests of equal length without an early exit. */
function _equal(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ (b[i] ?? 0);
  return diff === 0;
}
