/**
 * The credential hook and its default: a fixed set of users, checked in
 * constant time.
 *
 * @module
 */

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

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
 * digests under a key made at start-up; a check computes the digest of the
 * offered password and compares 32 bytes with `timingSafeEqual`, so the time
 * taken does not depend on where the passwords differ, on their lengths, or on
 * whether the user exists (an unknown user is compared against a dummy
 * digest).
 *
 * @example
 * ```ts
 * import { StaticCredentials } from "./credential_store.ts";
 * const store = new StaticCredentials({ alice: "s3cret" });
 * store.verify("alice", new TextEncoder().encode("s3cret")); // true
 * ```
 */
export class StaticCredentials implements CredentialStore {
  #key = randomBytes(32);
  #digests = new Map<string, Uint8Array>();
  #dummy: Uint8Array;

  /**
   * Creates the instance.
   *
   * @param users Username to password.
   * @throws {RangeError} When a name or password is empty or longer than the
   * 255 bytes RFC 1929 can carry.
   */
  constructor(users: Record<string, string> | Map<string, string>) {
    const entries = users instanceof Map ? users : Object.entries(users);
    const encoder = new TextEncoder();
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
    this.#dummy = this.#digest(randomBytes(32));
  }

  /** How many users there are. */
  get size(): number {
    return this.#digests.size;
  }

  /** Checks credentials in constant time. */
  verify(username: string, password: Uint8Array): boolean {
    const expected = this.#digests.get(username);
    const matches = timingSafeEqual(
      this.#digest(password),
      expected ?? this.#dummy,
    );
    return matches && expected !== undefined;
  }

  #digest(bytes: Uint8Array): Uint8Array {
    return createHmac("sha256", this.#key).update(bytes).digest();
  }
}
