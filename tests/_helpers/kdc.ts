/**
 * A throwaway MIT Kerberos realm on loopback for the GSS-API tests: a KDC
 * (`krb5kdc`) on a free 127.0.0.1 port with its database, a user principal
 * with a password, the service principals SOCKS clients ask for
 * (`rcmd/localhost`, `rcmd/127.0.0.1`) in a keytab, and `kinit` into a
 * credential cache. Everything lives in one temporary directory; the KDC is
 * tracked and killed by its PID. Nothing leaves loopback: DNS lookups of
 * KDCs, realms and reverse names are off.
 *
 * Without the Debian packages (krb5-kdc, krb5-admin-server, krb5-user) the
 * tests that need a realm are skipped with the reason, except under
 * `CI=true`, where they fail.
 *
 * @module
 */

import { sleep } from "./wait.ts";

/** The realm every test uses. */
export const REALM = "SOCKS.TEST";

/** The MIT GSS-API library the server and client load. */
export const GSS_LIBRARY = "libgssapi_krb5.so.2";

const _TOOLS = [
  "/usr/sbin/krb5kdc",
  "/usr/sbin/kdb5_util",
  "/usr/sbin/kadmin.local",
  "/usr/bin/kinit",
];

/**
 * Why a realm cannot be set up here, or `null` when it can.
 *
 * @returns The missing tools, named.
 */
export function kdcMissing(): string | null {
  const missing = _TOOLS.filter((path) => {
    try {
      return !Deno.statSync(path).isFile;
    } catch {
      return true;
    }
  });
  return missing.length === 0
    ? null
    : `MIT Kerberos is not installed (missing ${
      missing.join(", ")
    }; apt-get install krb5-kdc krb5-admin-server krb5-user)`;
}

/** Whether a missing realm must fail the run instead of skipping. */
export const KDC_REQUIRED: boolean = Deno.env.get("CI") === "true";

/** A running realm. */
export class TestKdc implements AsyncDisposable {
  /** The temporary directory holding database, configs, keytab, caches. */
  readonly dir: string;
  /** The KDC's port on 127.0.0.1. */
  readonly port: number;
  /** The keytab with `rcmd/localhost` and `rcmd/127.0.0.1`. */
  readonly keytab: string;
  /** The client configuration (`KRB5_CONFIG`). */
  readonly config: string;
  #child: Deno.ChildProcess;
  #stopped = false;

  private constructor(dir: string, port: number, child: Deno.ChildProcess) {
    this.dir = dir;
    this.port = port;
    this.keytab = `${dir}/socks.keytab`;
    this.config = `${dir}/krb5.conf`;
    this.#child = child;
  }

  /**
   * Creates the realm and starts its KDC.
   *
   * @returns The running realm, with the keytab written.
   */
  static async start(): Promise<TestKdc> {
    const dir = await Deno.makeTempDir({ prefix: "socks5-kdc-" });
    let lastError: unknown;
    // The free port is found before krb5kdc binds it; another process may
    // take it meanwhile, so a few attempts.
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = _freePort();
      await _writeConfigs(dir, port);
      try {
        if (attempt === 0) await _createDatabase(dir);
        const child = new Deno.Command("/usr/sbin/krb5kdc", {
          args: ["-n", "-r", REALM, "-P", `${dir}/kdc.pid`],
          env: _env(dir),
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).spawn();
        const kdc = new TestKdc(dir, port, child);
        try {
          await kdc.#waitListening();
        } catch (error) {
          await kdc.#kill();
          throw error;
        }
        await kdc.admin(
          "addprinc -randkey rcmd/localhost",
          "addprinc -randkey rcmd/127.0.0.1",
          `ktadd -k ${kdc.keytab} rcmd/localhost rcmd/127.0.0.1`,
        );
        return kdc;
      } catch (error) {
        lastError = error;
      }
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw lastError;
  }

  /**
   * The environment a server or client process of this realm runs with.
   *
   * @param ccache The credential cache (`KRB5CCNAME`), if any.
   * @returns `KRB5_CONFIG`, `KRB5RCACHEDIR` and maybe `KRB5CCNAME`.
   */
  env(ccache?: string): Record<string, string> {
    return {
      KRB5_CONFIG: this.config,
      KRB5RCACHEDIR: this.dir,
      ...(ccache ? { KRB5CCNAME: `FILE:${ccache}` } : {}),
    };
  }

  /**
   * Runs `kadmin.local` queries against the realm's database.
   *
   * @param queries One query each (`addprinc -pw x alice`).
   */
  async admin(...queries: string[]): Promise<void> {
    for (const query of queries) {
      await _run("/usr/sbin/kadmin.local", ["-r", REALM, "-q", query], {
        env: _env(this.dir),
      });
    }
  }

  /**
   * Adds a user principal with a password and gets its tickets.
   *
   * @param name The principal's name without realm (`alice`).
   * @param options `lifetime` for kinit `-l` (e.g. `"10s"`).
   * @returns The credential cache path.
   */
  async user(
    name: string,
    options: { lifetime?: string } = {},
  ): Promise<string> {
    const password = `pw-${name}-${crypto.randomUUID()}`;
    await this.admin(`addprinc -pw ${password} ${name}`);
    const ccache = `${this.dir}/${name}.ccache`;
    await _run(
      "/usr/bin/kinit",
      [...(options.lifetime ? ["-l", options.lifetime] : []), name],
      { env: this.env(ccache), stdin: `${password}\n` },
    );
    return ccache;
  }

  /** Kills the KDC by its PID and removes the directory. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#kill();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async #kill(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
    }
    await this.#child.status;
    await this.#child.stderr.cancel().catch(() => {});
  }

  async #waitListening(): Promise<void> {
    const deadline = Date.now() + 10_000;
    let exited = false;
    this.#child.status.then(() => exited = true);
    while (Date.now() < deadline && !exited) {
      try {
        const conn = await Deno.connect({
          hostname: "127.0.0.1",
          port: this.port,
        });
        conn.close();
        return;
      } catch {
        await sleep(20);
      }
    }
    const log = await Deno.readTextFile(`${this.dir}/kdc.log`).catch(() => "");
    throw new Error(`krb5kdc did not listen on ${this.port}: ${log}`);
  }
}

function _env(dir: string): Record<string, string> {
  return {
    KRB5_CONFIG: `${dir}/krb5.conf`,
    KRB5_KDC_PROFILE: `${dir}/kdc.conf`,
    KRB5RCACHEDIR: dir,
  };
}

function _freePort(): number {
  for (let attempt = 0;; attempt++) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    try {
      Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port })
        .close();
      return port;
    } catch (error) {
      // UDP port taken: try another.
      if (!(error instanceof Deno.errors.AddrInUse) || attempt > 20) {
        throw error;
      }
    }
  }
}

async function _writeConfigs(dir: string, port: number): Promise<void> {
  // clockskew 1: the acceptor checks ticket times strictly, so an expired
  // ticket is refused at once rather than five minutes later.
  await Deno.writeTextFile(
    `${dir}/krb5.conf`,
    `[libdefaults]
  default_realm = ${REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  clockskew = 1
[realms]
  ${REALM} = {
    kdc = 127.0.0.1:${port}
  }
[domain_realm]
  localhost = ${REALM}
  127.0.0.1 = ${REALM}
`,
  );
  await Deno.writeTextFile(
    `${dir}/kdc.conf`,
    `[kdcdefaults]
  kdc_listen = 127.0.0.1:${port}
  kdc_tcp_listen = 127.0.0.1:${port}
[realms]
  ${REALM} = {
    database_name = ${dir}/principal
    key_stash_file = ${dir}/stash
    acl_file = ${dir}/kadm5.acl
    kdc_listen = 127.0.0.1:${port}
    kdc_tcp_listen = 127.0.0.1:${port}
    max_life = 1h
  }
[logging]
  kdc = FILE:${dir}/kdc.log
`,
  );
}

async function _createDatabase(dir: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/kadm5.acl`, "");
  await _run("/usr/sbin/kdb5_util", [
    "create",
    "-s",
    "-r",
    REALM,
    "-P",
    `master-${crypto.randomUUID()}`,
  ], { env: _env(dir) });
}

async function _run(
  program: string,
  args: string[],
  options: { env: Record<string, string>; stdin?: string },
): Promise<void> {
  const child = new Deno.Command(program, {
    args,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) {
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    throw new Error(
      `${program} ${args[0]} exited ${code}: ${decode(stdout)}${
        decode(stderr)
      }`,
    );
  }
}
