/**
 * Finds an external client (curl, chromium, PySocks...) before any test is
 * registered, so a missing one becomes `Deno.test({ ignore })` with a printed
 * reason on a developer machine, and a failing test in CI (`CI=true`).
 *
 * @module
 */
import { REPO_ROOT } from "../_helpers/server_process.ts";

/** True in CI, where a missing client must fail the suite, not skip it. */
export const IN_CI: boolean = Deno.env.get("CI") === "true";

/** A client the e2e tests need, found or not. */
export interface ClientTool {
  /** What the tool is, for messages. */
  readonly name: string;
  /** The command to run it: an absolute path when found. */
  readonly command: string;
  /** Why it is unusable, or `undefined` when it was found. */
  readonly missing: string | undefined;
  /** Value for `Deno.test`'s `ignore`: missing and not in CI. */
  readonly ignore: boolean;
  /** Throws the missing reason (used first thing in each test body). */
  assertAvailable(): void;
}

/**
 * Looks `executable` up on PATH (or takes it as is when it is a path);
 * `install` says how to get it, for the skip or failure message.
 */
export function findExecutable(
  executable: string,
  install: string,
): ClientTool {
  const path = _which(executable);
  return _tool(
    executable,
    path ?? executable,
    path === undefined ? `${executable} not found on PATH` : undefined,
    install,
  );
}

/**
 * Finds a Python 3 that can `import socks` (PySocks). Debian's python3-socks
 * installs for /usr/bin/python3 only, which may not be the `python3` first on
 * PATH (pyenv), so both are tried.
 */
export function findPySocks(): ClientTool {
  return findPythonWith("socks", "PySocks", "apt-get install python3-socks");
}

/**
 * Finds a Python 3 that can import `module`: /usr/bin/python3 first (where
 * Debian's python3-* packages install), then the `python3` on PATH.
 *
 * @param module The module to import.
 * @param name The tool's name, for messages.
 * @param install How to get it.
 */
export function findPythonWith(
  module: string,
  name: string,
  install: string,
): ClientTool {
  const candidates = ["/usr/bin/python3", _which("python3")];
  for (const python of candidates) {
    if (python === undefined || !_isFile(python)) continue;
    try {
      const probe = new Deno.Command(python, {
        args: ["-c", `import ${module}`],
        stdout: "null",
        stderr: "null",
      }).outputSync();
      if (probe.success) {
        return _tool(name, python, undefined, "");
      }
    } catch {
      // Not runnable; try the next candidate.
    }
  }
  return _tool(
    name,
    "python3",
    `no python3 on this machine can import ${module}`,
    install,
  );
}

/** The directory holding the Node client scripts and their package.json. */
export const NODE_DIR = `${REPO_ROOT}tests/e2e/node/`;

/** Finds node plus the pinned `socks` package installed under {@link NODE_DIR}. */
export function findNodeSocks(): ClientTool {
  const node = _which("node");
  const install = "Node.js with npm, then npm ci --prefix tests/e2e/node";
  if (node === undefined) {
    return _tool("node socks", "node", "node not found on PATH", install);
  }
  if (!_isFile(`${NODE_DIR}node_modules/socks/package.json`)) {
    return _tool(
      "node socks",
      node,
      "the socks package is not installed in tests/e2e/node",
      install,
    );
  }
  return _tool("node socks", node, undefined, install);
}

function _tool(
  name: string,
  command: string,
  missing: string | undefined,
  install: string,
): ClientTool {
  const ignore = missing !== undefined && !IN_CI;
  if (ignore) {
    console.warn(
      `%ce2e: skipping ${name} tests: ${missing} (install: ${install})`,
      "color: yellow",
    );
  }
  return {
    name,
    command,
    missing,
    ignore,
    assertAvailable() {
      if (missing !== undefined) {
        throw new Error(
          `${name} is required when CI=true: ${missing} (install: ${install})`,
        );
      }
    },
  };
}

function _which(executable: string): string | undefined {
  if (executable.includes("/")) {
    return _isFile(executable) ? executable : undefined;
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const candidate = `${dir}/${executable}`;
    if (_isFile(candidate)) return candidate;
  }
  return undefined;
}

function _isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
