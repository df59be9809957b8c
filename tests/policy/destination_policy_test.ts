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
  "::2",
  "64:ff9b::808:808",
  "64:ff9b:2::1",
  "fbff:ffff::1",
  "fec0::1",
  "feff::1",
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
