import assert from "node:assert/strict";
import { failingOutbound } from "../_helpers/failing_outbound.ts";
import { NetError } from "../../src/runtime/net_error.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { echoTarget, recordingOrigin } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const RESPONSE =
  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhello";
const CLIENT_RESPONSE =
  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";

function status(code: number, reason: string, extra = ""): string {
  const body = `${code} ${reason}\n`;
  return `HTTP/1.1 ${code} ${reason}\r\n${extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
}

/** Sends `request`, reads the whole answer until the server closes. */
async function exchange(
  addr: { hostname: string; port: number },
  request: string | Uint8Array,
): Promise<string> {
  using client = await RawClient.open(addr);
  await client.send(typeof request === "string" ? enc(request) : request);
  return dec(await client.readToEnd());
}

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

Deno.test("HTTP CONNECT answers 200 and tunnels, pipelined bytes first", async () => {
  await using target = echoTarget();
  await using s = await startServer();
  using client = await RawClient.open(s.addr);
  await client.send(
    enc(
      `CONNECT 127.0.0.1:${target.addr.port} HTTP/1.1\r\nHost: x\r\n\r\nearly`,
    ),
  );
  const established = "HTTP/1.1 200 Connection established\r\n\r\n";
  assert.equal(dec(await client.read(established.length)), established);
  assert.equal(dec(await client.read(5)), "early");
  await client.send(enc("later"));
  assert.equal(dec(await client.read(5)), "later");
  client.close();
  const [line] = await s.sessions(1);
  assert.equal(line!.protocol, "http");
  assert.equal(line!.command, "connect");
  assert.equal(line!.reply, 0);
});

Deno.test("HTTP CONNECT failures map to 502, 403, 504 and 501", async (t) => {
  await t.step("refused: 502", async () => {
    await using s = await startServer();
    const answer = await exchange(
      s.addr,
      `CONNECT 127.0.0.1:${closedPort()} HTTP/1.1\r\n\r\n`,
    );
    assert.equal(answer, status(502, "Bad Gateway"));
    assert.equal((await s.sessions(1))[0]!.reply, 5);
  });
  await t.step("ruleset: 403", async () => {
    await using s = await startServer({
      ruleset: { permits: () => false, permitsAddress: () => true },
    });
    assert.equal(
      await exchange(s.addr, "CONNECT 127.0.0.1:9 HTTP/1.1\r\n\r\n"),
      status(403, "Forbidden"),
    );
  });
  await t.step("timeout: 504", async () => {
    const { outbound } = failingOutbound(
      new DOMException("Connect timed out", "TimeoutError"),
    );
    await using s = await startServer({ outbound });
    assert.equal(
      await exchange(s.addr, "CONNECT 127.0.0.1:9 HTTP/1.1\r\n\r\n"),
      status(504, "Gateway Timeout"),
    );
  });
  await t.step("unreachable: 502", async () => {
    const { outbound } = failingOutbound(
      new NetError("host_unreachable", "No route"),
    );
    await using s = await startServer({ outbound });
    assert.equal(
      await exchange(s.addr, "CONNECT 127.0.0.1:9 HTTP/1.1\r\n\r\n"),
      status(502, "Bad Gateway"),
    );
    assert.equal((await s.sessions(1))[0]!.reply, 4);
  });
  await t.step("connect disabled: 501", async () => {
    await using s = await startServer({ commands: { connect: false } });
    assert.equal(
      await exchange(s.addr, "CONNECT 127.0.0.1:9 HTTP/1.1\r\n\r\n"),
      status(501, "Not Implemented"),
    );
  });
});

Deno.test("a forwarded GET reaches the origin in origin-form with hop-by-hop fields removed", async () => {
  await using origin = recordingOrigin(RESPONSE);
  await using s = await startServer();
  const port = origin.addr.port;
  const answer = await exchange(
    s.addr,
    `GET http://127.0.0.1:${port}/a/b?c=d HTTP/1.1\r\nHost: wrong.test\r\nProxy-Connection: keep-alive\r\nUser-Agent: t\r\n\r\n`,
  );
  assert.equal(answer, CLIENT_RESPONSE);
  assert.equal(
    dec(await origin.received[0]!),
    `GET /a/b?c=d HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: t\r\nVia: 1.1 socks5-deno\r\nConnection: close\r\n\r\n`,
  );
  const [line] = await s.sessions(1);
  assert.equal(line!.protocol, "http");
  assert.equal(line!.destination, `127.0.0.1:${port}`);
});

Deno.test("a forwarded POST sends exactly its Content-Length body; a pipelined request is not forwarded", async () => {
  const head = (port: number) =>
    `POST http://127.0.0.1:${port}/up HTTP/1.1\r\nContent-Length: 11\r\n\r\n`;
  await using origin = recordingOrigin(
    RESPONSE,
    (bytes) => dec(bytes).endsWith("hello world"),
  );
  await using s = await startServer();
  const port = origin.addr.port;
  const answer = await exchange(
    s.addr,
    `${
      head(port)
    }hello worldGET http://127.0.0.1:${port}/smuggled HTTP/1.1\r\n\r\n`,
  );
  assert.equal(answer, CLIENT_RESPONSE);
  const received = dec(await origin.received[0]!);
  assert.equal(
    received,
    `POST /up HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 11\r\nVia: 1.1 socks5-deno\r\nConnection: close\r\n\r\nhello world`,
  );
  assert.equal(origin.received.length, 1);
});

Deno.test("a forwarded chunked body is passed on unchanged up to its last chunk", async () => {
  const body = "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\n";
  await using origin = recordingOrigin(
    RESPONSE,
    (bytes) => dec(bytes).endsWith("T: 1\r\n\r\n"),
  );
  await using s = await startServer();
  const port = origin.addr.port;
  // Sent a byte at a time, the body is framed the same way.
  using client = await RawClient.open(s.addr);
  const request = enc(
    `PUT http://127.0.0.1:${port}/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${body}GARBAGE`,
  );
  for (const byte of request) await client.send(Uint8Array.of(byte));
  assert.equal(dec(await client.readToEnd()), CLIENT_RESPONSE);
  client.close();
  assert.ok(dec(await origin.received[0]!).endsWith(`\r\n\r\n${body}`));
});

Deno.test("conflicting framing is refused with 400 before any connection is made", async () => {
  await using origin = recordingOrigin(RESPONSE);
  await using s = await startServer();
  const port = origin.addr.port;
  for (
    const fields of [
      "Content-Length: 3\r\nTransfer-Encoding: chunked",
      "Content-Length: 3\r\nContent-Length: 4",
    ]
  ) {
    assert.equal(
      await exchange(
        s.addr,
        `POST http://127.0.0.1:${port}/ HTTP/1.1\r\n${fields}\r\n\r\nabc`,
      ),
      status(400, "Bad Request"),
    );
  }
  assert.equal(
    await exchange(s.addr, "GET /origin-form HTTP/1.1\r\nHost: a\r\n\r\n"),
    status(400, "Bad Request"),
  );
  assert.equal(origin.peers.length, 0);
});

Deno.test("an origin's 100 Continue passes on before the final response, both rewritten", async () => {
  await using origin = recordingOrigin(
    "HTTP/1.1 100 Continue\r\nConnection: keep-alive\r\n\r\nHTTP/1.1 204 No Content\r\nKeep-Alive: 1\r\n\r\n",
  );
  await using s = await startServer();
  assert.equal(
    await exchange(
      s.addr,
      `GET http://127.0.0.1:${origin.addr.port}/ HTTP/1.1\r\n\r\n`,
    ),
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
  );
});

Deno.test("a malformed origin response is answered 502", async () => {
  await using origin = recordingOrigin("SSH-2.0-OpenSSH\r\n\r\n");
  await using s = await startServer();
  assert.equal(
    await exchange(
      s.addr,
      `GET http://127.0.0.1:${origin.addr.port}/ HTTP/1.1\r\n\r\n`,
    ),
    status(502, "Bad Gateway"),
  );
});

Deno.test("Proxy-Authorization Basic is checked against the users: 407 without it", async (t) => {
  await using origin = recordingOrigin(RESPONSE);
  await using s = await startServer({ users: { alice: "s3cret" } });
  const port = origin.addr.port;
  const challenge = 'Proxy-Authenticate: Basic realm="socks5-deno"\r\n';
  await t.step("no credentials: 407", async () => {
    assert.equal(
      await exchange(s.addr, `GET http://127.0.0.1:${port}/ HTTP/1.1\r\n\r\n`),
      status(407, "Proxy Authentication Required", challenge),
    );
  });
  await t.step("wrong password: 407, counted", async () => {
    assert.equal(
      await exchange(
        s.addr,
        `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nProxy-Authorization: Basic ${
          btoa("alice:wrong")
        }\r\n\r\n`,
      ),
      status(407, "Proxy Authentication Required", challenge),
    );
    assert.equal(s.metrics.get("auth_failures_total"), 2);
  });
  await t.step("right password: forwarded, credentials not", async () => {
    assert.equal(
      await exchange(
        s.addr,
        `GET http://127.0.0.1:${port}/ HTTP/1.1\r\nProxy-Authorization: Basic ${
          btoa("alice:s3cret")
        }\r\n\r\n`,
      ),
      CLIENT_RESPONSE,
    );
    const received = dec(await origin.received.at(-1)!);
    assert.ok(!received.includes("Proxy-Authorization"), received);
    const lines = await s.sessions(3);
    assert.equal(lines.at(-1)!.user, "alice");
  });
});

Deno.test("HTTP is closed without a reply when switched off", async () => {
  await using s = await startServer({ protocols: { http: false } });
  using client = await RawClient.open(s.addr);
  await client.send(enc("CONNECT 127.0.0.1:9 HTTP/1.1\r\n\r\n"));
  assert.equal(await client.closedByPeer(), true);
});

Deno.test("a forwarded GET is checked by the rules as protocol http, and a refused origin is answered 502", async () => {
  const seen: Array<{ protocol?: string; host: string }> = [];
  await using s = await startServer({
    ruleset: {
      permits: (request) => (seen.push({
        protocol: request.protocol,
        host: request.destination.host,
      }),
        request.destination.host !== "blocked.test"),
      permitsAddress: () => true,
    },
  });
  assert.equal(
    await exchange(s.addr, "GET http://blocked.test/ HTTP/1.1\r\n\r\n"),
    status(403, "Forbidden"),
  );
  assert.equal(
    await exchange(
      s.addr,
      `GET http://127.0.0.1:${closedPort()}/ HTTP/1.1\r\n\r\n`,
    ),
    status(502, "Bad Gateway"),
  );
  assert.deepEqual(seen, [
    { protocol: "http", host: "blocked.test" },
    { protocol: "http", host: "127.0.0.1" },
  ]);
});
