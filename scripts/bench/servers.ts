/**
 * The SOCKS5 servers the benchmark can measure: this project's server and,
 * where installed, microsocks and Dante for comparison. `direct` (no proxy)
 * is not a server; the runner handles it.
 *
 * @module
 */

import type { Credentials } from "./socks_client.ts";
import type { LaunchSpec } from "./server_process.ts";

/** A server the benchmark knows how to start. */
export interface ServerKind {
  /** Name in the table and on the command line. */
  name: string;
  /** Whether it can require RFC 1929 username/password auth here. */
  supportsAuth: boolean;
  /** Whether it can check a password against a stored bcrypt hash. */
  supportsHashes?: boolean;
  /** The command that makes it listen on 127.0.0.1:`port`. */
  launch(port: number, credentials?: Credentials): LaunchSpec;
}

/** Where this project's files are. */
export interface ProjectPaths {
  /** Directory holding `deno.json`. */
  root: string;
  /** The server's entry point, `main.ts`. */
  main: string;
}

/** The project's own server, run the way a user runs it. */
export function socks5Deno(paths: ProjectPaths, logLevel: string): ServerKind {
  return {
    name: "socks5-deno",
    supportsAuth: true,
    supportsHashes: true,
    launch(port, credentials) {
      const args = [
        "run",
        "--allow-net",
        "--allow-read",
        paths.main,
        "--listen",
        `127.0.0.1:${port}`,
        "--log-format",
        "json",
        // One access-log line per session costs the server real work in the
        // connection-rate workloads; microsocks and Dante log nothing there.
        "--log-level",
        logLevel,
      ];
      if (credentials?.hash) {
        // A users file holding the hash, as an operator would configure it.
        args.push("--users-file", "{config}");
        return {
          command: Deno.execPath(),
          args,
          cwd: paths.root,
          config: `${credentials.user}:${credentials.hash}\n`,
        };
      }
      if (credentials) {
        args.push("--user", `${credentials.user}:${credentials.pass}`);
      }
      return { command: Deno.execPath(), args, cwd: paths.root };
    },
  };
}

/**
 * The single executable (`dist/socks5-deno`, built by `deno task build`),
 * the way it ships: the same options as the Deno server.
 */
export function socks5DenoExe(
  executable: string,
  logLevel: string,
): ServerKind {
  return {
    name: "socks5-deno-exe",
    supportsAuth: true,
    supportsHashes: true,
    launch(port, credentials) {
      const args = [
        "--listen",
        `127.0.0.1:${port}`,
        "--log-format",
        "json",
        "--log-level",
        logLevel,
      ];
      if (credentials?.hash) {
        args.push("--users-file", "{config}");
        return {
          command: executable,
          args,
          config: `${credentials.user}:${credentials.hash}\n`,
        };
      }
      if (credentials) {
        args.push("--user", `${credentials.user}:${credentials.pass}`);
      }
      return { command: executable, args };
    },
  };
}

/**
 * The bare relay on Bun's sockets (`bare_bun_relay.ts`): the ceiling the
 * executable is measured against, no auth.
 *
 * @param bun The pinned Bun.
 * @param script Path of `bare_bun_relay.ts`.
 */
export function bunBare(bun: string, script: string): ServerKind {
  return {
    name: "bun-bare",
    supportsAuth: false,
    launch: (port) => ({ command: bun, args: [script, String(port)] }),
  };
}

/** microsocks (https://github.com/rofl0r/microsocks): a thread per client. */
export function microsocks(executable: string): ServerKind {
  return {
    name: "microsocks",
    supportsAuth: true,
    launch(port, credentials) {
      const args = ["-i", "127.0.0.1", "-p", String(port)];
      if (credentials) {
        args.push("-u", credentials.user, "-P", credentials.pass);
      }
      return { command: executable, args };
    },
  };
}

/**
 * Dante's `danted`: pre-forked worker processes, configured through a
 * temporary file. Username auth in Dante means system accounts, so it is
 * not measured.
 */
export function dante(executable: string, runAsRoot: boolean): ServerKind {
  return {
    name: "danted",
    supportsAuth: false,
    launch(port) {
      const config = [
        "logoutput: stderr",
        "errorlog: stderr",
        `internal: 127.0.0.1 port = ${port}`,
        "external: 127.0.0.1",
        "clientmethod: none",
        "socksmethod: none",
        // Dante insists on dropping privileges when started as root.
        ...(runAsRoot
          ? ["user.privileged: root", "user.unprivileged: nobody"]
          : []),
        "client pass {",
        "  from: 127.0.0.0/8 to: 0.0.0.0/0",
        "  log: error",
        "}",
        "socks pass {",
        "  from: 127.0.0.0/8 to: 127.0.0.0/8",
        "  command: connect",
        "  log: error",
        "}",
        "",
      ].join("\n");
      return {
        command: executable,
        // -p /dev/null: no pid file to clean up.
        args: ["-f", "{config}", "-p", "/dev/null"],
        config,
      };
    },
  };
}

/**
 * Finds `name` on PATH, then in `extraDirs`. Returns its path or `undefined`.
 */
export function findExecutable(
  name: string,
  extraDirs: string[] = [],
): string | undefined {
  const dirs = [
    ...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean),
    ...extraDirs,
  ];
  for (const dir of dirs) {
    const path = `${dir}/${name}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
