/**
 * The admin listener's one credential: a token, given as
 * `Authorization: Bearer TOKEN` or as the password of HTTP basic auth (any
 * user name), so both scrapers and browsers can use it.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Tells whether a request carries the token.
 *
 * Both sides are hashed before the constant-time comparison, so neither
 * the length nor a prefix of the token leaks through timing.
 *
 * @param authorization The `Authorization` header, or `null`.
 * @param token The expected token.
 * @returns `true` when it matches.
 */
export function hasToken(authorization: string | null, token: string): boolean {
  if (authorization === null) return false;
  const space = authorization.indexOf(" ");
  if (space < 0) return false;
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  let given: string;
  if (scheme === "bearer") {
    given = value;
  } else if (scheme === "basic") {
    let decoded: string;
    try {
      decoded = new TextDecoder().decode(
        Uint8Array.from(atob(value), (c) => c.charCodeAt(0)),
      );
    } catch {
      return false;
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) return false;
    given = decoded.slice(colon + 1);
  } else {
    return false;
  }
  return timingSafeEqual(_digest(given), _digest(token));
}

function _digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}
