import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameReader } from "../../src/core/frame_reader.ts";
import { AddressType, Reply } from "../../src/protocol/constants.ts";
import { UnexpectedEofError } from "../../src/protocol/errors.ts";
import {
  basicProxyCredentials,
  ChunkedBodyScanner,
  encodeClientResponseHead,
  encodeOriginRequest,
  encodeStatusResponse,
  type HttpRequestHead,
  HttpStatusError,
  parseProxyTarget,
  parseRequestHead,
  parseResponseHead,
  readHeadLines,
  requestBodyFraming,
  splitHead,
} from "../../src/protocol/http_proxy.ts";
import { splitSource } from "./_fixtures.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function head(text: string, split = 1 << 20): Promise<HttpRequestHead> {
  return parseRequestHead(
    await readHeadLines(new FrameReader(splitSource(enc(text), split))),
  );
}

async function assertStatus(
  promise: Promise<unknown> | (() => unknown),
  status: number,
): Promise<void> {
  const run = typeof promise === "function"
    ? Promise.resolve().then(promise)
    : promise;
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof HttpStatusError, String(error));
    assert.equal(error.status, status, error.message);
    return true;
  });
}

Deno.test("readHeadLines() and parseRequestHead() read a head whatever the split", async () => {
  const text =
    "GET http://127.0.0.1:8080/a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-A:  one \r\n\r\nBODY";
  for (const split of [1, 2, 5, 100]) {
    const reader = new FrameReader(splitSource(enc(text), split));
    const parsed = parseRequestHead(await readHeadLines(reader));
    assert.deepEqual(parsed, {
      method: "GET",
      target: "http://127.0.0.1:8080/a?b=1",
      version: "HTTP/1.1",
      fields: [["Host", "127.0.0.1:8080"], ["X-A", "one"]],
    }, `split ${split}`);
    // What was read past the head is handed back, never consumed.
    const rest = dec(reader.rest());
    assert.ok("BODY".startsWith(rest), `split ${split}: ${rest}`);
    if (split >= text.length) assert.equal(rest, "BODY");
  }
});

Deno.test("readHeadLines() accepts LF line ends and skips leading empty lines", async () => {
  const parsed = await head("\r\nCONNECT a.test:443 HTTP/1.0\nX: y\n\n");
  assert.equal(parsed.method, "CONNECT");
  assert.equal(parsed.version, "HTTP/1.0");
  assert.deepEqual(parsed.fields, [["X", "y"]]);
});

Deno.test("readHeadLines() refuses oversized lines and heads with 431", async () => {
  await assertStatus(
    head(`GET http://a/ HTTP/1.1\r\nX: ${"a".repeat(9000)}\r\n\r\n`),
    431,
  );
  const many = Array.from({ length: 120 }, (_, i) => `X${i}: v\r\n`).join("");
  await assertStatus(head(`GET http://a/ HTTP/1.1\r\n${many}\r\n`), 431);
});

Deno.test("readHeadLines() throws UnexpectedEofError when the head is cut short", async () => {
  await assert.rejects(
    head("GET http://a/ HTTP/1.1\r\nHost: a\r\n"),
    UnexpectedEofError,
  );
});

Deno.test("parseRequestHead() refuses malformed request lines and fields with 400, unknown versions with 505", async () => {
  for (
    const bad of [
      "GET  http://a/ HTTP/1.1\r\n\r\n",
      "GET http://a/\r\n\r\n",
      "G(T http://a/ HTTP/1.1\r\n\r\n",
      "GET http://a/ HTTP/1.1\r\nX : y\r\n\r\n",
      "GET http://a/ HTTP/1.1\r\nX: y\r\n folded\r\n\r\n",
      "GET http://a/ HTTP/1.1\r\nNoColon\r\n\r\n",
      "GET http://a/ HTTP/1.1\r\nX: a\rb\r\n\r\n",
      "GET http://a/ HTTP/1.1\r\nX: a\u0000b\r\n\r\n",
    ]
  ) {
    await assertStatus(head(bad), 400);
  }
  await assertStatus(head("GET http://a/ HTTP/2.0\r\n\r\n"), 505);
});

Deno.test("parseProxyTarget() reads CONNECT authorities, IPv6 in brackets", async () => {
  assert.deepEqual(
    parseProxyTarget(await head("CONNECT example.test:443 HTTP/1.1\r\n\r\n")),
    {
      form: "authority",
      destination: {
        type: AddressType.DOMAIN,
        host: "example.test",
        port: 443,
      },
    },
  );
  assert.deepEqual(
    parseProxyTarget(await head("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n")),
    {
      form: "authority",
      destination: { type: AddressType.IPV6, host: "::1", port: 8443 },
    },
  );
  for (
    const bad of [
      "CONNECT example.test HTTP/1.1",
      "CONNECT example.test:0 HTTP/1.1",
      "CONNECT example.test:65536 HTTP/1.1",
      "CONNECT [::1 HTTP/1.1",
      "CONNECT ::1:80 HTTP/1.1",
      "CONNECT [example.test]:80 HTTP/1.1",
      "CONNECT a b:80 HTTP/1.1",
    ]
  ) {
    await assertStatus(
      async () => parseProxyTarget(await head(`${bad}\r\n\r\n`)),
      400,
    );
  }
});

Deno.test("parseProxyTarget() reads absolute http URIs with the default port 80 and an origin-form path", async () => {
  const cases: Array<[string, string, number, string, string]> = [
    [
      "http://127.0.0.1:8080/x/y?z",
      "127.0.0.1",
      8080,
      "/x/y?z",
      "127.0.0.1:8080",
    ],
    ["HTTP://Example.Test", "Example.Test", 80, "/", "Example.Test"],
    ["http://[::1]:81?q", "::1", 81, "/?q", "[::1]:81"],
  ];
  for (const [uri, host, port, path, authority] of cases) {
    const target = parseProxyTarget(await head(`GET ${uri} HTTP/1.1\r\n\r\n`));
    assert.equal(target.form, "absolute", uri);
    assert.equal(target.destination.host, host, uri);
    assert.equal(target.destination.port, port, uri);
    if (target.form === "absolute") {
      assert.equal(target.path, path, uri);
      assert.equal(target.authority, authority, uri);
    }
  }
  for (
    const bad of [
      "/index.html",
      "https://a/",
      "http://user@a/",
      "http://a:99999/",
      "http:///x",
    ]
  ) {
    await assertStatus(
      async () => parseProxyTarget(await head(`GET ${bad} HTTP/1.1\r\n\r\n`)),
      400,
    );
  }
});

Deno.test("requestBodyFraming() reads Content-Length and chunked framing", async () => {
  assert.deepEqual(
    requestBodyFraming(await head("GET http://a/ HTTP/1.1\r\n\r\n")),
    { kind: "none" },
  );
  assert.deepEqual(
    requestBodyFraming(
      await head("POST http://a/ HTTP/1.1\r\nContent-Length: 12\r\n\r\n"),
    ),
    { kind: "length", length: 12 },
  );
  assert.deepEqual(
    requestBodyFraming(
      await head(
        "POST http://a/ HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n",
      ),
    ),
    { kind: "length", length: 5 },
  );
  assert.deepEqual(
    requestBodyFraming(
      await head(
        "POST http://a/ HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n",
      ),
    ),
    { kind: "chunked" },
  );
});

Deno.test("requestBodyFraming() refuses conflicting or strange framing (no smuggling)", async () => {
  const cases: Array<[string, number]> = [
    ["Content-Length: 5\r\nTransfer-Encoding: chunked", 400],
    ["Transfer-Encoding: chunked\r\nContent-Length: 0", 400],
    ["Content-Length: 5\r\nContent-Length: 6", 400],
    ["Content-Length: 5, 6", 400],
    ["Content-Length: +5", 400],
    ["Content-Length: 0x5", 400],
    ["Content-Length: 99999999999999999999", 400],
    ["Transfer-Encoding: gzip, chunked", 501],
    ["Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", 501],
    ["Transfer-Encoding: identity", 501],
  ];
  for (const [fields, status] of cases) {
    await assertStatus(
      async () =>
        requestBodyFraming(
          await head(`POST http://a/ HTTP/1.1\r\n${fields}\r\n\r\n`),
        ),
      status,
    );
  }
  await assertStatus(
    async () =>
      requestBodyFraming(
        await head(
          "POST http://a/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
      ),
    400,
  );
});

Deno.test("encodeOriginRequest() sends origin-form with Host from the URI and no hop-by-hop fields", async () => {
  const request = await head(
    "POST http://127.0.0.1:8080/p?q HTTP/1.1\r\n" +
      "Host: evil.test\r\n" +
      "Proxy-Authorization: Basic YTpi\r\n" +
      "Proxy-Connection: keep-alive\r\n" +
      "Connection: keep-alive, X-Secret, Content-Length\r\n" +
      "Keep-Alive: timeout=5\r\n" +
      "X-Secret: 1\r\n" +
      "TE: trailers\r\n" +
      "Upgrade: websocket\r\n" +
      "Content-Length: 3\r\n" +
      "Accept: */*\r\n\r\n",
  );
  const target = parseProxyTarget(request);
  assert.equal(target.form, "absolute");
  if (target.form !== "absolute") return;
  assert.equal(
    dec(encodeOriginRequest(request, target)),
    "POST /p?q HTTP/1.1\r\n" +
      "Host: 127.0.0.1:8080\r\n" +
      "Content-Length: 3\r\n" +
      "Accept: */*\r\n" +
      "Via: 1.1 socks5-deno\r\n" +
      "Connection: close\r\n\r\n",
  );
});

Deno.test("encodeOriginRequest() keeps header bytes above 0x7f unchanged", async () => {
  const bytes = Uint8Array.of(
    ...enc("GET http://a/ HTTP/1.1\r\nX-Name: caf"),
    0xe9,
    0x80,
    ...enc("\r\n\r\n"),
  );
  const request = parseRequestHead(
    await readHeadLines(new FrameReader(splitSource(bytes, 3))),
  );
  const target = parseProxyTarget(request);
  if (target.form !== "absolute") throw new Error("absolute expected");
  const out = encodeOriginRequest(request, target);
  const at = out.indexOf(0xe9);
  assert.deepEqual([...out.subarray(at, at + 2)], [0xe9, 0x80]);
});

Deno.test("parseResponseHead() and encodeClientResponseHead() drop hop-by-hop fields and add Connection: close", () => {
  const bytes = enc(
    "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\nContent-Length: 2\r\n\r\nhi",
  );
  const split = splitHead(bytes)!;
  assert.equal(dec(bytes.subarray(split.length)), "hi");
  const response = parseResponseHead(split.lines);
  assert.equal(response.status, 200);
  assert.equal(
    dec(encodeClientResponseHead(response)),
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
  );
  // An interim response is passed on without Connection: close.
  assert.equal(
    dec(encodeClientResponseHead(parseResponseHead(["HTTP/1.1 100 Continue"]))),
    "HTTP/1.1 100 Continue\r\n\r\n",
  );
  assert.equal(splitHead(enc("HTTP/1.1 200 OK\r\nX: y\r\n")), null);
  assert.throws(() => parseResponseHead(["ICY 200 OK"]), HttpStatusError);
  assert.throws(
    () => parseResponseHead(["HTTP/1.1 200 OK", "Bad Field: x"]),
    HttpStatusError,
  );
});

Deno.test("encodeStatusResponse() writes a complete response that closes", () => {
  assert.equal(
    dec(encodeStatusResponse(407, [["Proxy-Authenticate", 'Basic realm="x"']])),
    "HTTP/1.1 407 Proxy Authentication Required\r\n" +
      'Proxy-Authenticate: Basic realm="x"\r\n' +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      "Content-Length: 34\r\n" +
      "Connection: close\r\n\r\n" +
      "407 Proxy Authentication Required\n",
  );
});

Deno.test("basicProxyCredentials() decodes Basic credentials and refuses anything else", async () => {
  const withAuth = (value: string) =>
    head(`GET http://a/ HTTP/1.1\r\nProxy-Authorization: ${value}\r\n\r\n`);
  const got = basicProxyCredentials(
    await withAuth(`Basic ${btoa("alice:pa:ss")}`),
  );
  assert.equal(got?.username, "alice");
  assert.equal(dec(got!.password), "pa:ss");
  assert.equal(
    basicProxyCredentials(await withAuth(`basic ${btoa("a:")}`))?.username,
    "a",
  );
  for (
    const bad of [
      "Bearer abc",
      `Basic ${btoa(":pw")}`,
      `Basic ${btoa("nocolon")}`,
      "Basic !!!",
      "Basic",
    ]
  ) {
    assert.equal(basicProxyCredentials(await withAuth(bad)), null, bad);
  }
  assert.equal(
    basicProxyCredentials(await head("GET http://a/ HTTP/1.1\r\n\r\n")),
    null,
  );
  const twice = await head(
    `GET http://a/ HTTP/1.1\r\nProxy-Authorization: Basic ${
      btoa("a:b")
    }\r\nProxy-Authorization: Basic ${btoa("c:d")}\r\n\r\n`,
  );
  assert.equal(basicProxyCredentials(twice), null);
});

Deno.test("ChunkedBodyScanner finds the end of a chunked body whatever the split", () => {
  const body =
    "4;ext=1\r\nWiki\r\n5\r\npedia\r\nA\r\n in chunks\r\n0\r\nX-Trailer: t\r\n\r\n";
  const after = "GET http://other/ HTTP/1.1\r\n\r\n";
  const bytes = enc(body + after);
  for (const split of [1, 2, 3, 7, bytes.length]) {
    const scanner = new ChunkedBodyScanner();
    let consumed = 0;
    for (let i = 0; i < bytes.length; i += split) {
      const chunk = bytes.subarray(i, Math.min(bytes.length, i + split));
      const n = scanner.feed(chunk);
      consumed += n;
      if (n < chunk.length) {
        assert.ok(scanner.done);
        break;
      }
    }
    assert.equal(consumed, enc(body).length, `split ${split}`);
    assert.ok(scanner.done, `split ${split}`);
  }
});

Deno.test("ChunkedBodyScanner refuses sloppy framing with 400", async () => {
  for (
    const bad of [
      "4\nWiki\r\n0\r\n\r\n",
      "4\r\nWiki\n0\r\n\r\n",
      "4\r\nWikiX\r\n",
      " 4\r\nWiki\r\n",
      "4 \r\nWiki\r\n",
      "g\r\n",
      "\r\n",
      "fffffffffffffff\r\n",
      "0\r\n\r\r",
      `1;${"x".repeat(2000)}\r\n`,
    ]
  ) {
    await assertStatus(() => new ChunkedBodyScanner().feed(enc(bad)), 400);
  }
});

Deno.test("HttpStatusError carries its status, fields and reply", () => {
  const error = new HttpStatusError(407, "x", {
    reply: Reply.NOT_ALLOWED,
    fields: [["A", "b"]],
  });
  assert.equal(error.reply, Reply.NOT_ALLOWED);
  assert.deepEqual(error.fields, [["A", "b"]]);
  assert.equal(new HttpStatusError(400, "y").reply, Reply.GENERAL_FAILURE);
});

Deno.test("ChunkedBodyScanner ends exactly at the body's end for any chunks and any split (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), {
        maxLength: 6,
      }),
      fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1 }),
      fc.boolean(),
      (chunks, splits, trailer) => {
        const parts: Uint8Array[] = [];
        for (const chunk of chunks) {
          parts.push(
            enc(`${chunk.length.toString(16)}\r\n`),
            chunk,
            enc("\r\n"),
          );
        }
        parts.push(enc(trailer ? "0\r\nX: y\r\n\r\n" : "0\r\n\r\n"));
        const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const part of parts) {
          body.set(part, at);
          at += part.length;
        }
        const stream = new Uint8Array([...body, ...enc("NEXT")]);
        const scanner = new ChunkedBodyScanner();
        let consumed = 0;
        let offset = 0;
        for (let i = 0; offset < stream.length && !scanner.done; i++) {
          const size = splits[i % splits.length]!;
          const piece = stream.subarray(offset, offset + size);
          consumed += scanner.feed(piece);
          offset += piece.length;
        }
        return scanner.done && consumed === body.length;
      },
    ),
    { numRuns: 300 },
  );
});
