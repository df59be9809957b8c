/**
 * Password hashes in a users file: bcrypt (`$2a$`, `$2b$`, `$2y$`, as
 * `htpasswd -B` writes), argon2id and scrypt PHC strings. bcrypt and
 * argon2id go through `hash-wasm` (WebAssembly, so they run the same on
 * Deno, Bun and the single executable); scrypt through `node:crypto`, which
 * runs it off the event loop.
 *
 * @module
 */

// hash-wasm and node:crypto are loaded on the first hash, not at start:
// imported statically they added several MB to every executable's
// resident memory, hashed users or not (measured, see the commit).
const _wasm = () => import("hash-wasm");
const _nodeCrypto = () => import("node:crypto");

/** The hash schemes a users file may hold. */
export type HashScheme = "bcrypt" | "scrypt" | "argon2id";

/** The schemes {@linkcode hashPassword} can write. */
export const HASH_SCHEMES: readonly HashScheme[] = [
  "scrypt",
  "bcrypt",
  "argon2id",
];

const _BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const _ARGON2ID =
  /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const _SCRYPT =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/**
 * Whether a stored password is one of the hashes this module verifies.
 *
 * @param stored The password field of a users-file line.
 * @returns The scheme, or `null` for plaintext.
 */
export function hashScheme(stored: string): HashScheme | null {
  if (_BCRYPT.test(stored)) return "bcrypt";
  if (_ARGON2ID.test(stored)) return "argon2id";
  if (_SCRYPT.test(stored)) return "scrypt";
  return null;
}

/**
 * Whether a stored password is a hash (not plaintext).
 *
 * @param stored The password field.
 * @returns True for a bcrypt, argon2id or scrypt string.
 */
export function isPasswordHash(stored: string): boolean {
  return hashScheme(stored) !== null;
}

/**
 * Checks a password against a stored hash. Slow by design (tens of ms).
 *
 * @param password The offered password.
 * @param stored A string {@linkcode hashScheme} recognises.
 * @returns Whether they match.
 */
export async function verifyPasswordHash(
  password: Uint8Array,
  stored: string,
): Promise<boolean> {
  switch (hashScheme(stored)) {
    case "bcrypt":
      // hash-wasm reads $2a$/$2b$; $2y$ (PHP's and htpasswd's name for the
      // fixed $2a$) is the same algorithm.
      return await (await _wasm()).bcryptVerify({
        password,
        hash: stored.replace(/^\$2y\$/, "$2b$"),
      });
    case "argon2id":
      return await (await _wasm()).argon2Verify({ password, hash: stored });
    case "scrypt":
      return await _scryptVerify(password, stored);
    default:
      return false;
  }
}

/**
 * Hashes a password for a users file.
 *
 * @param password The password.
 * @param scheme Which scheme.
 * @returns The encoded hash (PHC string, or bcrypt's `$2a$` form).
 */
export async function hashPassword(
  password: string,
  scheme: HashScheme = "scrypt",
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  if (scheme === "bcrypt") {
    return await (await _wasm()).bcrypt({
      password,
      salt,
      costFactor: 10,
      outputType: "encoded",
    });
  }
  if (scheme === "argon2id") {
    // OWASP's first argon2id choice: 19 MiB, 2 passes, 1 lane.
    return await (await _wasm()).argon2id({
      password,
      salt,
      parallelism: 1,
      iterations: 2,
      memorySize: 19_456,
      hashLength: 32,
      outputType: "encoded",
    });
  }
  const ln = 14, r = 8, p = 1;
  const key = await _scrypt(
    new TextEncoder().encode(password),
    salt,
    ln,
    r,
    p,
    32,
  );
  return `$scrypt$ln=${ln},r=${r},p=${p}$${_b64(salt)}$${_b64(key)}`;
}

async function _scryptVerify(
  password: Uint8Array,
  stored: string,
): Promise<boolean> {
  const m = _SCRYPT.exec(stored)!;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 1 || ln > 20 || r < 1 || p < 1) return false;
  const salt = _unb64(m[4]!);
  const expected = _unb64(m[5]!);
  if (expected.length < 16) return false;
  const key = await _scrypt(password, salt, ln, r, p, expected.length);
  return (await _nodeCrypto()).timingSafeEqual(key, expected);
}

async function _scrypt(
  password: Uint8Array,
  salt: Uint8Array,
  ln: number,
  r: number,
  p: number,
  length: number,
): Promise<Uint8Array> {
  const N = 2 ** ln;
  const { scrypt } = await _nodeCrypto();
  return await new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      length,
      { N, r, p, maxmem: 256 * N * r + 1024 * 1024 },
      (error, key) => error ? reject(error) : resolve(new Uint8Array(key)),
    );
  });
}

/** Unpadded standard base64, as PHC strings use. */
function _b64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/=+$/, "");
}

function _unb64(text: string): Uint8Array {
  const padded = text + "=".repeat((4 - text.length % 4) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}
