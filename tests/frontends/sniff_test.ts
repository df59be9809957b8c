import assert from "node:assert/strict";
import { ALL_PROTOCOLS, frontEndFor } from "../../src/frontends/sniff.ts";
import { httpFrontEnd } from "../../src/frontends/http_proxy.ts";
import { socks4FrontEnd } from "../../src/frontends/socks4.ts";
import { socks5FrontEnd } from "../../src/frontends/socks5.ts";

Deno.test("frontEndFor() picks SOCKS5 for 05, SOCKS4 for 04 and HTTP for an upper-case letter", () => {
  assert.deepEqual(frontEndFor(0x05), {
    protocol: "socks5",
    frontEnd: socks5FrontEnd,
  });
  assert.deepEqual(frontEndFor(0x04), {
    protocol: "socks4",
    frontEnd: socks4FrontEnd,
  });
  for (const letter of "ACGHOPTZ") {
    assert.deepEqual(frontEndFor(letter.charCodeAt(0)), {
      protocol: "http",
      frontEnd: httpFrontEnd,
    }, letter);
  }
});

Deno.test("frontEndFor() returns null for first bytes no protocol starts with", () => {
  // 16: TLS; lower case and digits start no HTTP method; 0D: PROXY v2.
  for (const byte of [0x00, 0x01, 0x0d, 0x16, 0x40, 0x5b, 0x61, 0x67, 0xff]) {
    assert.equal(frontEndFor(byte), null, `0x${byte.toString(16)}`);
  }
});

Deno.test("frontEndFor() returns null for a protocol that is switched off", () => {
  const off = { ...ALL_PROTOCOLS, socks4: false, http: false };
  assert.equal(frontEndFor(0x04, off), null);
  assert.equal(frontEndFor(0x47, off), null);
  assert.equal(frontEndFor(0x05, off)?.protocol, "socks5");
  assert.equal(
    frontEndFor(0x05, { ...ALL_PROTOCOLS, socks5: false }),
    null,
  );
});
