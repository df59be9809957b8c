import assert from "node:assert/strict";
import { frontEndFor } from "../../src/frontends/sniff.ts";
import { socks5FrontEnd } from "../../src/frontends/socks5.ts";

Deno.test("frontEndFor() picks SOCKS5 for 05 and nothing for other first bytes", () => {
  assert.equal(frontEndFor(0x05), socks5FrontEnd);
  for (const byte of [0x00, 0x04, 0x16, 0x47, 0x43, 0xff]) {
    assert.equal(frontEndFor(byte), null, `0x${byte.toString(16)}`);
  }
});
