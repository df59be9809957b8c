/**
 * A throwaway OpenSSH server on 127.0.0.1 for the SSH-through-SOCKS check:
 * its own host key, one generated client key, public-key login only, for
 * the user running the tests (root in CI).
 *
 * @module
 */
import { settleWithin } from "../_helpers/wait.ts";
import { runCommand } from "./_run_command.ts";

/** A running sshd; stop it with `await using` or {@link SshdTarget.close}. */
export interface SshdTarget extends AsyncDisposable {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** The user that may log in. */
  readonly user: string;
  /** Private key file accepted for {@link SshdTarget.user}. */
  readonly clientKey: string;
  /** sshd's log so far, for failure messages. */
  readonly log: () => string;
  /** Stops sshd (SIGTERM), waits for it and removes its files. */
  close(): Promise<void>;
}

/** Options for {@link startSshd}. */
export interface SshdOptions {
  /** Absolute path of sshd. */
  sshd: string;
  /** ssh-keygen command. */
  sshKeygen: string;
}

/** sshd cannot listen on port 0, so a freshly freed port is tried this often. */
const START_ATTEMPTS = 3;

/** How long sshd may take to say it is listening. */
const START_TIMEOUT_MS = 10_000;

/**
 * Generates keys and a config in a temp dir and starts `sshd -D -e` on a
 * free loopback port.
 */
export async function startSshd(options: SshdOptions): Promise<SshdTarget> {
  const dir = await Deno.makeTempDir({ prefix: "socks5-e2e-sshd-" });
  try {
    const isRoot = Deno.uid() === 0;
    const user = isRoot ? "root" : await _currentUser();
    if (isRoot) {
      // As root, sshd insists on its privilege-separation directory, which
      // Debian's service unit creates at boot; a container has none.
      await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 });
    }
    for (const name of ["host_key", "client_key"]) {
      const keygen = await runCommand(options.sshKeygen, [
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        `socks5-e2e-${name}`,
        "-f",
        `${dir}/${name}`,
      ]);
      if (keygen.code !== 0) {
        throw new Error(`ssh-keygen failed: ${keygen.stderr}`);
      }
    }
    await Deno.copyFile(`${dir}/client_key.pub`, `${dir}/authorized_keys`);

    let lastLog = "";
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const port = _freePort();
      await Deno.writeTextFile(`${dir}/sshd_config`, _config(dir, port, user));
      const started = await _spawn(options.sshd, dir, port);
      if (started.ok) {
        return _target(started.child, started.log, port, user, dir);
      }
      lastLog = started.log();
    }
    throw new Error(
      `sshd did not start in ${START_ATTEMPTS} attempts:\n${lastLog}`,
    );
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}

function _config(dir: string, port: number, user: string): string {
  return [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${dir}/host_key`,
    "PidFile none",
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    // No PAM: the throwaway login must not depend on the machine's PAM stack.
    "UsePAM no",
    // The temp dir's modes are not sshd's business here.
    "StrictModes no",
    `AllowUsers ${user}`,
    "LogLevel VERBOSE",
    "",
  ].join("\n");
}

type _Started =
  | { ok: true; child: Deno.ChildProcess; log: () => string }
  | { ok: false; log: () => string };

async function _spawn(
  sshd: string,
  dir: string,
  port: number,
): Promise<_Started> {
  const child = new Deno.Command(sshd, {
    args: ["-D", "-e", "-f", `${dir}/sshd_config`],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const log = () => text;
  const { promise: ready, resolve } = Promise.withResolvers<boolean>();
  const reading = (async () => {
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      text += chunk;
      if (text.includes(`Server listening on 127.0.0.1 port ${port}`)) {
        resolve(
          true,
        );
      }
    }
    resolve(false); // stderr closed: sshd exited
  })();
  const ok = (await settleWithin(ready, START_TIMEOUT_MS)) ?? false;
  if (ok) {
    // Keep draining stderr in the background; close() awaits it.
    _readers.set(child, reading);
    return { ok: true, child, log };
  }
  try {
    child.kill("SIGTERM");
  } catch {
    // Already exited (e.g. the port was taken).
  }
  await child.status;
  await reading;
  return { ok: false, log };
}

const _readers = new WeakMap<Deno.ChildProcess, Promise<void>>();

function _target(
  child: Deno.ChildProcess,
  log: () => string,
  port: number,
  user: string,
  dir: string,
): SshdTarget {
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await child.status;
      await _readers.get(child);
      await Deno.remove(dir, { recursive: true });
    })();
  return {
    port,
    user,
    clientKey: `${dir}/client_key`,
    log,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A port that was free a moment ago; sshd has no "port 0". */
function _freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

async function _currentUser(): Promise<string> {
  const id = await runCommand("id", ["-un"]);
  return id.stdoutText.trim();
}
