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

/** Every stored password occupies this many bytes: a length byte and 255. */
const _SLOT = 256;

/**
 * Users and passwords held in memory. Each password is stored in a
 * fixed 256-byte slot (its length, its bytes, zero padding), and a check
 * compares the offered password's slot with the stored one over all 256
 * bytes with a branch-free loop. The time taken therefore does not depend on
 * where the passwords differ, on their lengths, or on whether the user
 * exists (an unknown user is compared against a random slot). The check is
 * synchronous and costs well under a microsecond, so authentication adds no
 * event-loop turn to a session.
 *
 * @example
 * ```ts
 * import { StaticCredentials } from "./credential_store.ts";
 * const store = new StaticCredentials({ alice: "s3cret" });
 * store.verify("alice", new TextEncoder().encode("s3cret")); // true
 * ```
 */
export class StaticCredentials implements CredentialStore {
  #slots = new Map<string, Uint8Array>();
  #dummy = crypto.getRandomValues(new Uint8Array(_SLOT));
  #offered = new Uint8Array(_SLOT);

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
    for (const [name, password] of entries) {
      const nameBytes = encoder.encode(name).length;
      const passBytes = encoder.encode(password);
      if (nameBytes < 1 || nameBytes > 255) {
        throw new RangeError(
          `Username must be 1-255 bytes, got ${JSON.stringify(name)}`,
        );
      }
      if (passBytes.length < 1 || passBytes.length > 255) {
        throw new RangeError(
          `Password of user ${JSON.stringify(name)} must be 1-255 bytes`,
        );
      }
      const slot = new Uint8Array(_SLOT);
      _fill(slot, passBytes);
      this.#slots.set(name, slot);
    }
  }

  /** How many users there are. */
  get size(): number {
    return this.#slots.size;
  }

  /** Checks credentials in constant time. */
  verify(username: string, password: Uint8Array): boolean {
    const expected = this.#slots.get(username);
    if (password.length > 255) return false; // RFC 1929 cannot carry it
    _fill(this.#offered, password);
    const stored = expected ?? this.#dummy;
    let diff = 0;
    for (let i = 0; i < _SLOT; i++) diff |= this.#offered[i]! ^ stored[i]!;
    this.#offered.fill(0);
    return diff === 0 && expected !== undefined;
  }
}

function _fill(slot: Uint8Array, password: Uint8Array): void {
  slot.fill(0);
  slot[0] = password.length;
  slot.set(password, 1);
}
