/**
 * Runs one external client (curl, python3, node, chromium...) to completion
 * under a deadline, with an environment free of proxy variables so that the
 * only proxy a client uses is the one the test names.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Options for {@link runCommand}. */
export interface RunCommandOptions {
  /**
   * Deadline for the whole run; past it the process gets SIGTERM, then
   * SIGKILL {@link KILL_GRACE_MS} later, and the result has `timedOut`.
   * @default 30_000
   */
  timeoutMs?: number;
  /** Bytes or text written to stdin, which is then closed. */
  stdin?: Uint8Array | string;
  /** Extra environment variables on top of the minimal base. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /**
   * Hash stdout instead of keeping it: for multi-megabyte downloads.
   * @default false
   */
  hashStdout?: boolean;
}

/** What a finished run produced. */
export interface CommandResult {
  /** Exit code (non-zero after a signal). */
  code: number;
  /** Whether the deadline killed it. */
  timedOut: boolean;
  /** stdout, empty when `hashStdout` was set. */
  stdout: Uint8Array;
  /** stdout decoded as UTF-8. */
  stdoutText: string;
  /** Number of stdout bytes. */
  stdoutLength: number;
  /** Hex sha256 of stdout. */
  stdoutSha256: string;
  /** stderr decoded as UTF-8. */
  stderr: string;
}

/** Time between SIGTERM and SIGKILL for a process past its deadline. */
const KILL_GRACE_MS = 3_000;

/** Variables passed through from the test's environment; nothing else is. */
const _PASSED_THROUGH = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "TMPDIR",
  "CI",
];

/**
 * Runs `command` with `args` and resolves when it exits (or is killed at
 * the deadline). Never rejects for a non-zero exit: tests assert on `code`
 * so that failures show stderr.
 */
export async function runCommand(
  command: string,
  args: string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const env: Record<string, string> = {};
  for (const name of _PASSED_THROUGH) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, options.env);
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    // A clean environment: http_proxy, ALL_PROXY and friends would silently
    // route a client through some other proxy, or around ours.
    clearEnv: true,
    env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let timedOut = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const deadline = setTimeout(() => {
    timedOut = true;
    _signal(child, "SIGTERM");
    killTimer = setTimeout(() => _signal(child, "SIGKILL"), KILL_GRACE_MS);
  }, options.timeoutMs ?? 30_000);

  try {
    const writing = options.stdin === undefined
      ? Promise.resolve()
      : _writeStdin(child.stdin, options.stdin);
    const hashing = _consume(child.stdout, options.hashStdout ?? false);
    const stderr = new Response(child.stderr).text();
    const [status, out, err] = await Promise.all([
      child.status,
      hashing,
      stderr,
      // The client may exit without reading all of stdin; that is its
      // business, and the exit code tells the test.
      writing.catch(() => {}),
    ]);
    return {
      code: status.code,
      timedOut,
      stdout: out.bytes,
      stdoutText: new TextDecoder().decode(out.bytes),
      stdoutLength: out.length,
      stdoutSha256: out.sha256,
      stderr: err,
    };
  } finally {
    clearTimeout(deadline);
    clearTimeout(killTimer);
  }
}

/** Throws with the client's output unless it exited 0 in time. */
export function assertSucceeded(result: CommandResult, what: string): void {
  if (result.code === 0 && !result.timedOut) return;
  throw new Error(
    `${what} ${
      result.timedOut ? "timed out" : `exited with ${result.code}`
    }\n` +
      `stdout:\n${result.stdoutText.slice(0, 4000)}\nstderr:\n${
        result.stderr.slice(0, 4000)
      }`,
  );
}

async function _writeStdin(
  stdin: WritableStream<Uint8Array>,
  data: Uint8Array | string,
): Promise<void> {
  const bytes = typeof data === "string"
    ? new TextEncoder().encode(data)
    : data;
  const writer = stdin.getWriter();
  try {
    await writer.write(bytes);
  } finally {
    await writer.close().catch(() => {});
  }
}

async function _consume(
  stream: ReadableStream<Uint8Array>,
  hashOnly: boolean,
): Promise<{ bytes: Uint8Array; length: number; sha256: string }> {
  const hash = createHash("sha256");
  const kept: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    length += chunk.length;
    if (!hashOnly) kept.push(chunk);
  }
  const bytes = new Uint8Array(hashOnly ? 0 : length);
  let offset = 0;
  for (const chunk of kept) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { bytes, length, sha256: hash.digest("hex") };
}

function _signal(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already exited.
  }
}
