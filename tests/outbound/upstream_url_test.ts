import assert from "node:assert/strict";
import {
  parseUpstreamChain,
  parseUpstreamUrl,
} from "../../src/outbound/upstream_url.ts";

Deno.test("parseUpstreamUrl() reads protocol, host, port and percent-decoded credentials", () => {
  assert.deepEqual(parseUpstreamUrl("socks5://al%40ce:p%3Ass@127.0.0.1:1081"), {
    protocol: "socks5",
    host: "127.0.0.1",
    port: 1081,
    auth: { username: "al@ce", password: "p:ss" },
    display: "socks5://127.0.0.1:1081",
  });
  assert.deepEqual(parseUpstreamUrl("http://[::1]:3128/"), {
    protocol: "http",
    host: "::1",
    port: 3128,
    auth: null,
    display: "http://[::1]:3128",
  });
  assert.equal(parseUpstreamUrl("socks4a://bob@proxy.example").port, 1080);
  assert.equal(parseUpstreamUrl("http://proxy.example").port, 8080);
  assert.equal(parseUpstreamChain([]).length, 0);
});

Deno.test("parseUpstreamUrl() refuses bad URLs without quoting credentials", () => {
  for (
    const [text, pattern] of [
      [
        "ftp://u:secret@127.0.0.1:21",
        /not one of socks5, socks4a, socks4, http/,
      ],
      ["socks5://u:secret@127.0.0.1:1080/path", /must not have a path/],
      [
        "socks4://u:secret@127.0.0.1:1080",
        /SOCKS4 has a user id but no password/,
      ],
      ["not a url u:secret@", /is not a URL/],
      ["socks5://u:secret@[::1", /is not a URL/],
    ] as const
  ) {
    assert.throws(
      () => parseUpstreamUrl(text),
      (e: unknown) =>
        e instanceof TypeError && pattern.test(e.message) &&
        !e.message.includes("secret"),
      text,
    );
  }
});
