/**
 * What every front-end does about failed logins, in one place: the per-client
 * throttle (a client IP that failed too often is refused without a check),
 * the `auth_failures_total` counter, and the `--auth-failure-delay` pause.
 *
 * @module
 */

import { canonicalIp } from "../protocol/ip.ts";
import type { Connection } from "../runtime/transport.ts";
import type { FrontEndSettings, HandshakeProgress } from "./front_end.ts";

/**
 * The IP failed logins are counted under: behind a trusted balancer, the
 * client its PROXY header named, else the socket's peer; canonical.
 *
 * @param conn The client connection.
 * @param progress The session's progress (its `clientAddress`, when set).
 * @returns The canonical IP.
 */
export function loginIp(conn: Connection, progress: HandshakeProgress): string {
  return canonicalIp((progress.clientAddress ?? conn.remoteAddr).hostname);
}

/**
 * Whether a login from `ip` may be checked at all.
 *
 * @param settings The front-end's settings (their `limits` hold the throttle).
 * @param ip The client IP, canonical.
 * @returns False once the client failed too often this minute.
 */
export function loginAllowed(settings: FrontEndSettings, ip: string): boolean {
  return settings.limits?.authAllowed(ip) ?? true;
}

/**
 * Records a failed login: it counts toward the client's throttle and in
 * `auth_failures_total`.
 *
 * @param settings The front-end's settings.
 * @param ip The client IP, canonical.
 */
export function loginFailed(settings: FrontEndSettings, ip: string): void {
  settings.limits?.authFailed(ip);
  settings.metrics.count("auth_failures_total");
}

/**
 * Waits `--auth-failure-delay` before a failed login is answered; ends early
 * when the session is aborted (shutdown), so a delay never holds it open.
 *
 * @param settings The front-end's settings.
 * @param signal The session's signal.
 */
export function delayFailedLogin(
  settings: FrontEndSettings,
  signal: AbortSignal,
): Promise<void> {
  const ms = settings.authFailureDelay;
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
