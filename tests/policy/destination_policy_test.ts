import assert from "node:assert/strict";
import { AddressType } from "../../src/protocol/constants.ts";
import {
  blockInternalDestinations,
  inBlock,
  INTERNAL_BLOCKS,
  parseCidr,
} from "../../src/policy/destination_policy.ts";
import type { RuleRequest, Ruleset } from "../../src/policy/ruleset.ts";
import { toHex } from "../protocol/_fixtures.ts";

const REQUEST: RuleRequest = {
  client: { hostname: "127.0.0.1", port: 50000 },
  user: null,
  command: "connect",
  destination: { type: AddressType.DOMAIN, host: "example.org", port: 443 },
};

/** Addresses inside each internal block: first, a middle one, and last. */
const SAMPLES: Record<string, string[]> = {
  "0.0.0.0/8": ["0.0.0.0", "0.1.2.3", "0.255.255.255"],
  "10.0.0.0/8": ["10.0.0.0", "10.20.30.40", "10.255.255.255"],
  "100.64.0.0/10": ["100.64.0.0", "100.100.100.100", "100.127.255.255"],
  "127.0.0.0/8": ["127.0.0.1", "127.1.2.3", "127.255.255.255"],
  "169.254.0.0/16": ["169.254.0.0", "169.254.169.254", "169.254.255.255"],
  "172.16.0.0/12": ["172.16.0.0", "172.20.1.1", "172.31.255.255"],
  "192.0.0.0/24": ["192.0.0.0", "192.0.0.170", "192.0.0.255"],
  "192.168.0.0/16": ["192.168.0.0", "192.168.1.1", "192.168.255.255"],
  "198.18.0.0/15": ["198.18.0.0", "198.18.5.5", "198.19.255.255"],
  "224.0.0.0/4": ["224.0.0.1", "232.1.1.1", "239.255.255.255"],
  "240.0.0.0/4": ["240.0.0.0", "250.1.2.3", "255.255.255.255"],
  "::/128": ["::", "0:0:0:0:0:0:0:0"],
  "::1/128": ["::1"],
  "64:ff9b:1::/48": ["64:ff9b:1::", "64:ff9b:1:ffff::1"],
  "fc00::/7": ["fc00::", "fd00:ec2::254", "fdff:ffff:ffff:ffff::1"],
  "fe80::/10": ["fe80::1", "febf:ffff::1"],
  "fec0::/10": ["fec0::", "fec0::1", "feff:ffff:ffff:ffff::1"],
  "ff00::/8": ["ff02::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
};

/** Public neighbours just outside the blocks, and well-known public hosts. */
const PUBLIC = [
  "1.1.1.1",
  "8.8.8.8",
  "9.255.255.255",
  "11.0.0.0",
  "100.63.255.255",
  "100.128.0.0",
  "126.255.255.255",
  "128.0.0.0",
  "169.253.255.255",
  "169.255.0.0",
  "172.15.255.255",
  "172.32.0.0",
  "192.0.1.0",
  "192.0.2.1",
  "192.167.255.255",
  "192.169.0.0",
  "198.17.255.255",
  "198.20.0.0",
  "223.255.255.255",
  "2001:4860:4860::8888",
  "2606:4700:4700::1111",
  "64:ff9b::808:808",
  "64:ff9b:2::1",
  "fbff:ffff::1",
  "::ffff:8.8.8.8",
];

async function permitted(
  rules: Ruleset,
  address: string,
  request: RuleRequest = REQUEST,
): Promise<boolean> {
  return await rules.permitsAddress(request, address);
}

Deno.test("blockInternalDestinations() refuses an address when it is in any internal block", async (t) => {
  assert.deepStrictEqual(Object.keys(SAMPLES), [...INTERNAL_BLOCKS]);
  const rules = blockInternalDestinations();
  for (const block of INTERNAL_BLOCKS) {
    for (const address of SAMPLES[block]!) {
      await t.step(`${block}: ${address}`, async () => {
        assert.equal(await permitted(rules, address), false);
      });
    }
  }
});

Deno.test("blockInternalDestinations() permits an address when it is public", async (t) => {
  const rules = blockInternalDestinations();
  for (const address of PUBLIC) {
    await t.step(address, async () => {
      assert.equal(await permitted(rules, address), true);
    });
  }
});

Deno.test("blockInternalDestinations() refuses an IPv4-mapped IPv6 address when its IPv4 is internal", async (t) => {
  const rules = blockInternalDestinations();
  for (
    const address of [
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:10.1.2.3",
      "::ffff:169.254.169.254",
      "::ffff:192.168.1.1",
      "::ffff:0.0.0.0",
      "0:0:0:0:0:ffff:ac10:1",
    ]
  ) {
    await t.step(address, async () => {
      assert.equal(await permitted(rules, address), false);
    });
  }
});

/** IPv6 transition addresses that carry an internal IPv4 address. */
const EMBEDDED_INTERNAL: Record<string, string[]> = {
  "IPv4-compatible ::/96": [
    "::127.0.0.1",
    "::7f00:1",
    "::10.1.2.3",
    "::169.254.169.254",
    "::2", // 0.0.0.2, "this network"; only :: and ::1 are IPv6's own
  ],
  "NAT64 well-known 64:ff9b::/96": [
    "64:ff9b::127.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::10.1.2.3",
    "64:ff9b::192.168.1.1",
    "64:ff9b::100.64.0.1",
  ],
  "NAT64 local-use 64:ff9b:1::/48": [
    "64:ff9b:1::10.1.2.3",
    "64:ff9b:1:abcd::127.0.0.1",
  ],
  "6to4 2002::/16": [
    "2002:7f00:1::",
    "2002:a9fe:a9fe::1",
    "2002:a01:203:1::1",
    "2002:c0a8:101::",
    "2002:6440:1::",
  ],
  "Teredo 2001::/32, by the client address": [
    "2001:0:cb00:7105:8000:63bf:80ff:fffe", // client 127.0.0.1
    "2001:0:cb00:7105:8000:63bf:5601:5601", // client 169.254.169.254
    "2001:0:cb00:7105:8000:63bf:f5fe:fdfc", // client 10.1.2.3
  ],
};

/** IPv6 transition addresses that carry a public IPv4 address. */
const EMBEDDED_PUBLIC: Record<string, string[]> = {
  "IPv4-compatible ::/96": ["::8.8.8.8", "::192.0.2.1"],
  "NAT64 well-known 64:ff9b::/96": ["64:ff9b::8.8.8.8", "64:ff9b::192.0.2.1"],
  "6to4 2002::/16": ["2002:c000:201::1", "2002:808:808::"],
  "Teredo 2001::/32, by the client address": [
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", // client 192.0.2.45
    "2001:0:a00:1:8000:63bf:3fff:fdfe", // server 10.0.0.1, client 192.0.2.1
  ],
};

Deno.test("blockInternalDestinations() refuses an IPv6 address when the IPv4 address it embeds is internal", async (t) => {
  const rules = blockInternalDestinations();
  for (const [form, addresses] of Object.entries(EMBEDDED_INTERNAL)) {
    for (const address of addresses) {
      await t.step(`${form}: ${address}`, async () => {
        assert.equal(await permitted(rules, address), false);
      });
    }
  }
});

Deno.test("blockInternalDestinations() permits an IPv6 address when the IPv4 address it embeds is public", async (t) => {
  const rules = blockInternalDestinations();
  for (const [form, addresses] of Object.entries(EMBEDDED_PUBLIC)) {
    for (const address of addresses) {
      await t.step(`${form}: ${address}`, async () => {
        assert.equal(await permitted(rules, address), true);
      });
    }
  }
});

Deno.test("blockInternalDestinations() refuses a local-use NAT64 address when the IPv4 address it embeds is public", async () => {
  // The literal prefix is internal on its own: a local translator may reach
  // anything, so the embedded address alone does not clear it.
  const rules = blockInternalDestinations();
  assert.equal(await permitted(rules, "64:ff9b:1::192.0.2.1"), false);
  assert.equal(await permitted(rules, "64:ff9b:1::8.8.8.8"), false);
});

Deno.test("blockInternalDestinations() exempts each form of an address when an allow block holds that form", async (t) => {
  const cases: Array<[string[], string, boolean]> = [
    // An IPv4 block exempts the IPv4 address inside a transition address.
    [["10.1.0.0/16"], "64:ff9b::10.1.2.3", true],
    [["10.1.0.0/16"], "::10.1.2.3", true],
    [["10.1.0.0/16"], "2002:a01:203::", true],
    [["10.1.0.0/16"], "2001:0:cb00:7105:8000:63bf:f5fe:fdfc", true],
    [["10.1.0.0/16"], "64:ff9b::10.2.0.1", false],
    [["10.1.0.0/16"], "2002:a02:203::", false],
    // The local-use prefix is internal as a literal too: both forms need
    // an exemption.
    [["10.1.0.0/16"], "64:ff9b:1::10.1.2.3", false],
    [["64:ff9b:1::/48"], "64:ff9b:1::192.0.2.1", true],
    [["64:ff9b:1::/48"], "64:ff9b:1::10.1.2.3", false],
    [["64:ff9b:1::/48", "10.1.0.0/16"], "64:ff9b:1::10.1.2.3", true],
    [["64:ff9b:1::/48", "10.1.0.0/16"], "64:ff9b:1::10.2.2.3", false],
    // An IPv6 block never exempts the internal IPv4 address inside.
    [["2002::/16"], "2002:a01:203::", false],
    [["::/0"], "2002:a01:203::", false],
    [["::/0"], "::ffff:127.0.0.1", false],
    [["::/0"], "64:ff9b::169.254.169.254", false],
    [["::/0"], "fd00::1", true],
    [["::/0"], "::1", true],
    // :: and ::1 are IPv6 addresses, not IPv4-compatible ones.
    [["0.0.0.0/8"], "::1", false],
    [["0.0.0.0/8"], "::", false],
    [["0.0.0.0/8"], "::2", true],
    [["127.0.0.0/8"], "::1", false],
  ];
  for (const [allow, address, expected] of cases) {
    await t.step(`${allow.join(" ")}: ${address}`, async () => {
      const rules = blockInternalDestinations({ allow });
      assert.equal(await permitted(rules, address), expected);
    });
  }
});

Deno.test("blockInternalDestinations() permits an internal address when an allow block covers it", async (t) => {
  const rules = blockInternalDestinations({
    allow: ["10.1.0.0/16", "fd00:1::/32", "127.0.0.53/32"],
  });
  const cases: Array<[string, boolean]> = [
    ["10.1.0.0", true],
    ["10.1.255.255", true],
    ["::ffff:10.1.2.3", true],
    ["10.0.255.255", false],
    ["10.2.0.0", false],
    ["fd00:1::5", true],
    ["fd00:2::5", false],
    ["127.0.0.53", true],
    ["127.0.0.1", false],
    ["192.168.0.1", false],
    ["8.8.8.8", true],
  ];
  for (const [address, expected] of cases) {
    await t.step(address, async () => {
      assert.equal(await permitted(rules, address), expected);
    });
  }
});

Deno.test("blockInternalDestinations() consults next when it would permit", async (t) => {
  const seen: string[] = [];
  const next: Ruleset = {
    permits: (request) => request.user === "alice",
    permitsAddress: (_request, address) => {
      seen.push(address);
      return address !== "8.8.4.4";
    },
  };
  const rules = blockInternalDestinations({ next });
  await t.step("permits", async () => {
    assert.equal(await rules.permits({ ...REQUEST, user: "alice" }), true);
    assert.equal(await rules.permits({ ...REQUEST, user: "bob" }), false);
  });
  await t.step("permitsAddress", async () => {
    assert.equal(await permitted(rules, "8.8.8.8"), true);
    assert.equal(await permitted(rules, "8.8.4.4"), false);
    assert.equal(await permitted(rules, "10.0.0.1"), false);
    // Internal addresses are refused before next is asked.
    assert.deepStrictEqual(seen, ["8.8.8.8", "8.8.4.4"]);
  });
  await t.step("async next", async () => {
    const asyncRules = blockInternalDestinations({
      next: {
        permits: () => Promise.resolve(false),
        permitsAddress: () => Promise.resolve(false),
      },
    });
    assert.equal(await asyncRules.permits(REQUEST), false);
    assert.equal(await permitted(asyncRules, "8.8.8.8"), false);
  });
});

Deno.test("blockInternalDestinations() permits every named request when there is no next", async () => {
  const rules = blockInternalDestinations();
  assert.equal(await rules.permits(REQUEST), true);
  assert.equal(
    await rules.permits({
      ...REQUEST,
      destination: { type: AddressType.IPV4, host: "127.0.0.1", port: 22 },
    }),
    true,
  );
});

Deno.test("blockInternalDestinations() throws RangeError when an allow block is invalid", () => {
  assert.throws(() => blockInternalDestinations({ allow: ["10.0.0.0/40"] }), {
    name: "RangeError",
    message: 'Invalid CIDR block "10.0.0.0/40"',
  });
});

Deno.test("parseCidr() returns network bytes and prefix length when given a block", async (t) => {
  const cases: Array<[string, string, number]> = [
    ["10.0.0.0/8", "0a 00 00 00", 8],
    ["0.0.0.0/0", "00 00 00 00", 0],
    ["192.0.2.1/32", "c0 00 02 01", 32],
    ["fc00::/7", "fc 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", 7],
    ["::1/128", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01", 128],
  ];
  for (const [cidr, bytes, bits] of cases) {
    await t.step(cidr, () => {
      const block = parseCidr(cidr);
      assert.equal(toHex(block.bytes), bytes);
      assert.equal(block.bits, bits);
    });
  }
});

Deno.test("parseCidr() throws RangeError when the block is invalid", async (t) => {
  for (
    const cidr of [
      "",
      "10.0.0.0",
      "10.0.0.0/",
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/-1",
      "10.0.0.0/8.0",
      "10.0.0.0/ 8",
      "10.0.0.0/0x8",
      "10.0.0/8",
      "010.0.0.0/8",
      "example.org/8",
      "/8",
      "10.0.0.0/8/8",
      "[::1]/128",
    ]
  ) {
    await t.step(JSON.stringify(cidr), () => {
      assert.throws(() => parseCidr(cidr), {
        name: "RangeError",
        message: `Invalid CIDR block ${JSON.stringify(cidr)}`,
      });
    });
  }
});

Deno.test("inBlock() compares only the prefix bits when the prefix is not byte-aligned", async (t) => {
  const block = parseCidr("172.16.0.0/12");
  const cases: Array<[string, boolean]> = [
    ["172.16.0.0", true],
    ["172.31.255.255", true],
    ["172.15.255.255", false],
    ["172.32.0.0", false],
    ["::ffff:172.20.0.1", true],
    ["ac10::", false],
    ["example.org", false],
  ];
  for (const [address, inside] of cases) {
    await t.step(address, () => assert.equal(inBlock(address, block), inside));
  }
  await t.step("/0 holds every address of its family", () => {
    assert.equal(inBlock("203.0.113.9", parseCidr("0.0.0.0/0")), true);
    assert.equal(inBlock("2001:db8::1", parseCidr("0.0.0.0/0")), false);
    assert.equal(inBlock("2001:db8::1", parseCidr("::/0")), true);
  });
});
