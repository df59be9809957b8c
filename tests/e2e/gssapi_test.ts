/**
 * GSS-API (RFC 1961) end to end: a real MIT KDC on loopback with a
 * throwaway realm, the real server (deno, bun, exe) with its keytab, and
 * real clients: the project's own client and an independent one on
 * python3-gssapi, at every protection level they negotiate, over CONNECT
 * and UDP; and the refusals (garbage token, ticket for a key the server does
 * not have, wrong service, re-keyed service, expired ticket, a client that
 * stops mid-exchange, an unknown service principal), after which the server
 * keeps serving and has logged no token.
 *
 * Debian's curl 7.88.1 cannot be driven: it offers X'01', and when the proxy
 * chooses it, it gives up with "SOCKS5 GSSAPI per-message authentication is
 * not supported" before sending a token (a curl bug: curl 8 built from
 * source got through at level 0, the only one curl asks for). Debian's curl
 * 8.14.1 from bookworm-backports fails the same way (it offers 00 01, and
 * answers the server's 01 with that message), so it is Debian's builds, not
 * only 7.x. The curl test runs only with a curl of 8 or later.
 */
import assert from "node:assert/strict";
import { bind, connect, loadGssapi, udpAssociate } from "../../src/mod.ts";
import { SocksError } from "../../src/protocol/errors.ts";
import { denoNetwork } from "../../src/runtime/deno/network.ts";
import type { Connection, Network } from "../../src/runtime/transport.ts";
import { KDC_REQUIRED, kdcMissing, TestKdc } from "../_helpers/kdc.ts";
import { hex, RawClient, toHex } from "../_helpers/raw_client.ts";
import { serverTest } from "../_helpers/server_commands.ts";
import { REPO_ROOT, ServerProcess } from "../_helpers/server_process.ts";
import { payload } from "../_helpers/targets.ts";
import { findExecutable, findPythonWith } from "./_client_tool.ts";
import { assertSucceeded, runCommand } from "./_run_command.ts";
import { startTcpEcho } from "./_tcp_targets.ts";
import { startUdpEcho } from "./_udp_echo_target.ts";
import { sleep } from "../_helpers/wait.ts";

const MISSING = kdcMissing();
const IGNORE = MISSING !== null && !KDC_REQUIRED;
const SUFFIX = IGNORE ? ` (skipped: ${MISSING})` : "";
const PYTHON = findPythonWith(
  "gssapi",
  "python3-gssapi",
  "apt-get install python3-gssapi",
);
const CURL = findExecutable("curl", "apt-get install curl");
const CURL_MAJOR = _curlMajor();
const MARKER = new TextEncoder().encode("PLAINTEXT-MARKER-1961");
const ALICE = "alice@SOCKS.TEST";

function _requireKdc(): void {
  if (MISSING !== null) throw new Error(MISSING);
}

/** Sets the realm's variables in this process (the in-process client). */
function _realmEnv(kdc: TestKdc): Disposable {
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(kdc.env())) {
    saved.set(key, Deno.env.get(key));
    Deno.env.set(key, value);
  }
  return {
    [Symbol.dispose]() {
      for (const [key, value] of saved) {
        if (value === undefined) Deno.env.delete(key);
        else Deno.env.set(key, value);
      }
    },
  };
}

/** Deno's network, recording every byte the client writes to the proxy. */
function _recordingNetwork(): { network: Network; sent: () => Uint8Array } {
  const chunks: Uint8Array[] = [];
  const network: Network = {
    ...denoNetwork,
    async connect(options) {
      const conn = await denoNetwork.connect(options);
      const recorded: Connection = {
        localAddr: conn.localAddr,
        remoteAddr: conn.remoteAddr,
        read: (buffer) => conn.read(buffer),
        write: (bytes) => {
          chunks.push(bytes.slice());
          return conn.write(bytes);
        },
        closeWrite: () => conn.closeWrite(),
        close: () => conn.close(),
      };
      return recorded;
    },
  };
  return {
    network,
    sent: () => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      return out;
    },
  };
}

function _contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

async function _echo(conn: Connection, data: Uint8Array): Promise<Uint8Array> {
  const writing = (async () => {
    let written = 0;
    while (written < data.length) {
      written += await conn.write(data.subarray(written));
    }
  })();
  const got = new Uint8Array(data.length);
  const buffer = new Uint8Array(64 * 1024);
  let offset = 0;
  while (offset < data.length) {
    const n = await conn.read(buffer);
    if (n === null) break;
    got.set(buffer.subarray(0, n), offset);
    offset += n;
  }
  await writing;
  return got.subarray(0, offset);
}

function _gssArgs(kdc: TestKdc, protection?: string): string[] {
  return [
    "--gssapi-keytab",
    kdc.keytab,
    "--gssapi-service",
    "rcmd",
    ...(protection ? ["--gssapi-protection", protection] : []),
  ];
}

serverTest({
  name:
    `GSS-API: the project's client negotiates levels 0, 1 and 2, CONNECT byte-exact, UDP and BIND, principal as user${SUFFIX}`,
  ignore: IGNORE,
  async fn(_t, server) {
    _requireKdc();
    await using kdc = await TestKdc.start();
    const ccache = await kdc.user("alice");
    await using echo = startTcpEcho();
    await using udp = startUdpEcho();
    await using proxy = await ServerProcess.start({
      server,
      allowFfi: true,
      env: kdc.env(),
      args: _gssArgs(kdc, "none,integrity,confidentiality"),
    });
    using _env = _realmEnv(kdc);
    const api = await loadGssapi();
    const body = new Uint8Array(MARKER.length + 200_000);
    body.set(MARKER);
    body.set(payload(200_000, 7), MARKER.length);
    for (const protection of [0, 1, 2] as const) {
      const recorder = _recordingNetwork();
      const { conn } = await connect({ host: echo.hostname, port: echo.port }, {
        proxy: { hostname: "127.0.0.1", port: proxy.port },
        gssapi: { api, ccache, protection, host: "localhost" },
        network: recorder.network,
      });
      const got = await _echo(conn, body);
      conn.close();
      assert.equal(got.length, body.length, `level ${protection}`);
      assert.ok(
        got.every((b, i) => b === body[i]),
        `level ${protection}: echo differs`,
      );
      const wire = recorder.sent();
      // Greeting: one method, X'01'; then the first context token frame.
      assert.equal(toHex(wire.subarray(0, 5)), "05 01 01 01 01");
      assert.equal(
        _contains(wire, MARKER),
        protection < 2,
        `level ${protection}: plaintext on the wire`,
      );
      const session = await proxy.waitForSession({
        command: "connect",
        user: ALICE,
        minBytesUp: body.length,
      });
      assert.equal(session.bytesDown, body.length);

      using association = await udpAssociate({
        proxy: { hostname: "127.0.0.1", port: proxy.port },
        gssapi: { api, ccache, protection, host: "localhost" },
      });
      const datagram = payload(1200, protection + 3);
      await association.send(datagram, { host: udp.hostname, port: udp.port });
      const answer = await association.receive();
      assert.deepEqual(answer.data, datagram);
      assert.deepEqual(answer.from, {
        type: 1,
        host: udp.hostname,
        port: udp.port,
      });
    }
    // BIND at level 2: both replies and the peer's bytes come sealed.
    const binding = await bind({ host: "127.0.0.1", port: 0 }, {
      proxy: { hostname: "127.0.0.1", port: proxy.port },
      gssapi: { api, ccache, protection: 2, host: "localhost" },
    });
    const peer = await Deno.connect({
      hostname: "127.0.0.1",
      port: binding.bound.port,
    });
    const peerAddress = await binding.peer;
    assert.equal(peerAddress.port, (peer.localAddr as Deno.NetAddr).port);
    await peer.write(MARKER);
    const fromPeer = new Uint8Array(MARKER.length);
    let filled = 0;
    while (filled < MARKER.length) {
      const n = await binding.conn.read(fromPeer.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    assert.deepEqual(fromPeer, MARKER);
    peer.close();
    binding.conn.close();
    await proxy.waitForSessionCount(7);
    assert.equal(
      proxy.findSessions({ user: ALICE, command: "udp_associate" }).length,
      3,
    );
    assert.equal(
      proxy.findSessions({ user: ALICE, command: "bind" }).length,
      1,
    );
  },
});

serverTest({
  name:
    `GSS-API: python3-gssapi, an independent client, gets levels 0, 1 and 2 with byte-exact echo${SUFFIX}${
      PYTHON.missing ? ` (skipped: ${PYTHON.missing})` : ""
    }`,
  ignore: IGNORE || PYTHON.ignore,
  async fn(_t, server) {
    _requireKdc();
    PYTHON.assertAvailable();
    await using kdc = await TestKdc.start();
    const ccache = await kdc.user("alice");
    await using echo = startTcpEcho();
    await using proxy = await ServerProcess.start({
      server,
      allowFfi: true,
      env: kdc.env(),
      args: _gssArgs(kdc, "none,integrity,confidentiality"),
    });
    for (const level of [0, 1, 2]) {
      const result = await runCommand(PYTHON.command, [
        `${REPO_ROOT}tests/e2e/python/gssapi_socks5_client.py`,
        "127.0.0.1",
        String(proxy.port),
        "rcmd@localhost",
        String(level),
        echo.hostname,
        String(echo.port),
        "300000",
      ], { env: kdc.env(ccache) });
      assertSucceeded(result, `python3-gssapi client at level ${level}`);
      const out = JSON.parse(result.stdoutText);
      assert.equal(out.level, level);
      assert.equal(out.principal, ALICE);
      assert.equal(out.received, 300_000);
      assert.equal(out.receivedSha256, out.sentSha256);
      assert.equal(out.markerOnWire, level < 2);
    }
    await proxy.waitForSessionCount(3);
    assert.equal(
      proxy.findSessions({ user: ALICE, minBytesUp: 300_000 }).length,
      3,
    );
  },
});

serverTest({
  name:
    `GSS-API: the server chooses within its policy (client asks 0, gets 1; asks 2 of an integrity-only server, refuses)${SUFFIX}`,
  ignore: IGNORE,
  async fn(_t, server) {
    _requireKdc();
    await using kdc = await TestKdc.start();
    const ccache = await kdc.user("alice");
    await using echo = startTcpEcho();
    await using proxy = await ServerProcess.start({
      server,
      allowFfi: true,
      env: kdc.env(),
      args: _gssArgs(kdc, "integrity"),
    });
    using _env = _realmEnv(kdc);
    const api = await loadGssapi();
    const recorder = _recordingNetwork();
    const { conn } = await connect({ host: echo.hostname, port: echo.port }, {
      proxy: { hostname: "127.0.0.1", port: proxy.port },
      gssapi: { api, ccache, protection: 0, host: "localhost" },
      network: recorder.network,
    });
    const got = await _echo(conn, MARKER);
    conn.close();
    assert.deepEqual(got, MARKER);
    // Level 1 agreed: the data travels in 01 03 messages, readable but signed.
    const wire = recorder.sent();
    assert.ok(_contains(wire, MARKER));
    assert.ok(_contains(wire, hex("01 03")));
    const refused = await connect({ host: echo.hostname, port: echo.port }, {
      proxy: { hostname: "127.0.0.1", port: proxy.port },
      gssapi: { api, ccache, protection: 2, host: "localhost" },
    }).catch((e) => e);
    assert.ok(refused instanceof SocksError, String(refused));
    assert.equal(
      refused.message,
      "Proxy agreed to GSS-API protection level 1, below the requested 2",
    );
  },
});

serverTest({
  name:
    `GSS-API refusals: garbage token, unknown key, wrong service, re-keyed service, expired ticket, client leaving mid-exchange; server keeps serving, logs no token${SUFFIX}`,
  ignore: IGNORE,
  async fn(t, server) {
    _requireKdc();
    await using kdc = await TestKdc.start();
    const alice = await kdc.user("alice");
    const carol = await kdc.user("carol");
    await kdc.admin(
      "addprinc -randkey rcmd/other.test",
      "addprinc -randkey host/localhost",
      `ktadd -k ${kdc.keytab} host/localhost`,
    );
    // A ticket that lives 3 s: its first token is made now and sent to the
    // server only after it expired.
    const bob = await kdc.user("bob", { lifetime: "3s" });
    const bobIssued = Date.now();
    await using echo = startTcpEcho();
    await using proxy = await ServerProcess.start({
      server,
      allowFfi: true,
      env: kdc.env(),
      args: _gssArgs(kdc),
    });
    using _env = _realmEnv(kdc);
    const api = await loadGssapi();
    const bobCredential = await api.initiator({ ccache: bob });
    const bobContext = bobCredential.initiate({ target: "rcmd@localhost" });
    const bobToken = (await bobContext.step(null)).output!;
    bobContext.close();
    bobCredential.close();
    const through = (
      host: string,
      ccache: string,
      service = "rcmd",
    ) =>
      connect({ host: echo.hostname, port: echo.port }, {
        proxy: { hostname: "127.0.0.1", port: proxy.port },
        gssapi: { api, ccache, service, host },
      });
    const refusedWithAbort = async (attempt: Promise<unknown>) => {
      const error = await attempt.catch((e) => e);
      assert.ok(error instanceof SocksError, String(error));
      assert.equal(
        error.message,
        "Proxy refused the GSS-API authentication (abort)",
      );
      assert.equal(error.reply, 2);
    };
    const raw = async () => {
      const client = await RawClient.open({
        hostname: "127.0.0.1",
        port: proxy.port,
      });
      await client.send("05 01 01");
      assert.equal(await client.readHex(2), "05 01");
      return client;
    };

    await t.step("a garbage token is answered 01 ff, then close", async () => {
      using client = await raw();
      await client.send("01 01 00 04 de ad be ef");
      assert.equal(toHex(await client.readToEnd()), "01 ff");
    });
    await t.step("a frame of another version is answered 01 ff", async () => {
      using client = await raw();
      await client.send("05 01 00 01 00");
      assert.equal(toHex(await client.readToEnd()), "01 ff");
    });
    await t.step("a ticket for a key not in the keytab", async () => {
      await refusedWithAbort(through("other.test", alice));
    });
    await t.step("a ticket for another service in the keytab", async () => {
      await refusedWithAbort(through("localhost", alice, "host"));
    });
    await t.step(
      "a service re-keyed after the keytab was written",
      async () => {
        await kdc.admin("cpw -randkey rcmd/127.0.0.1");
        await refusedWithAbort(through("127.0.0.1", carol));
      },
    );
    await t.step(
      "an unknown service principal fails in the client",
      async () => {
        const error = await through("nowhere.test", alice).catch((e) => e);
        assert.equal(error.name, "GssError");
        assert.match(error.message, /not found in Kerberos database/);
      },
    );
    await t.step("a client that stops mid-exchange", async () => {
      using client = await raw();
      await client.send("01 01 00 40 60 3e 06");
      client.close();
      // Its own line, not "the next session line": the previous step's
      // refused session may be logged after this one starts (the server
      // drains before closing).
      const line = await proxy.waitForSession({
        error: "Client closed the connection mid-handshake",
      });
      assert.equal(line.user, null);
      assert.equal(line.stage, "auth");
    });
    await t.step("an expired ticket is answered 01 ff", async () => {
      // Time must pass: the ticket lives 3 s, the acceptor allows 1 s skew.
      const wait = bobIssued + 5_000 - Date.now();
      if (wait > 0) await sleep(wait);
      using client = await raw();
      const frame = new Uint8Array(4 + bobToken.length);
      frame.set([1, 1, bobToken.length >> 8, bobToken.length & 0xff]);
      frame.set(bobToken, 4);
      await client.send(frame);
      assert.equal(toHex(await client.readToEnd()), "01 ff");
    });
    await t.step("the server still serves a valid client", async () => {
      const { conn } = await through("localhost", alice);
      assert.deepEqual(await _echo(conn, MARKER), MARKER);
      conn.close();
      await proxy.waitForSession({ user: ALICE, command: "connect" });
    });
    await proxy.waitForSessionCount(9);
    const failures = proxy.sessions.filter((s) => s.user === null);
    assert.equal(failures.length, 8);
    const log = proxy.log;
    assert.match(log, /GSS-API authentication failed/);
    assert.match(log, /[Tt]icket expired/);
    assert.match(log, /not "rcmd"|service \\"host\\"/);
    // Neither the garbage nor a real token nor a password shows up.
    assert.doesNotMatch(log, /deadbeef|de ad be ef/i);
    const tokenHex = toHex(bobToken.subarray(20, 40)).replaceAll(" ", "");
    assert.ok(!log.includes(tokenHex));
    assert.ok(
      !log.includes(btoa(String.fromCharCode(...bobToken.subarray(20, 38)))),
    );
    assert.doesNotMatch(log, /pw-/);
  },
});

serverTest({
  name: `GSS-API: curl --socks5-gssapi at level 0${SUFFIX}${
    CURL_MAJOR !== null && CURL_MAJOR < 8
      ? ` (skipped: curl ${CURL_MAJOR}.x bug: it offers X'01', then fails with "SOCKS5 GSSAPI per-message authentication is not supported" before sending a token)`
      : ""
  }`,
  ignore: IGNORE || CURL.ignore || (CURL_MAJOR !== null && CURL_MAJOR < 8),
  async fn(_t, server) {
    _requireKdc();
    CURL.assertAvailable();
    await using kdc = await TestKdc.start();
    const ccache = await kdc.user("alice");
    await using proxy = await ServerProcess.start({
      server,
      allowFfi: true,
      env: kdc.env(),
      args: _gssArgs(kdc, "none,integrity,confidentiality"),
    });
    const target = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response("kerberized"),
    );
    try {
      const result = await runCommand(CURL.command, [
        "-sS",
        "--socks5-gssapi",
        "--socks5-gssapi-service",
        "rcmd",
        "--proxy",
        `socks5://localhost:${proxy.port}`,
        `http://127.0.0.1:${target.addr.port}/`,
      ], { env: kdc.env(ccache) });
      assertSucceeded(result, "curl --socks5-gssapi");
      assert.equal(result.stdoutText, "kerberized");
      await proxy.waitForSession({ user: ALICE, command: "connect" });
    } finally {
      await target.shutdown();
    }
  },
});

function _curlMajor(): number | null {
  try {
    const out = new Deno.Command("curl", { args: ["-V"], stdout: "piped" })
      .outputSync();
    const match = /^curl (\d+)\./.exec(new TextDecoder().decode(out.stdout));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}
