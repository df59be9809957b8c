import assert from "node:assert/strict";
import {
  listenDatagramIn,
  parsePortRange,
} from "../../src/outbound/port_range.ts";
import { NetError } from "../../src/runtime/net_error.ts";
import type { DatagramSocket, Network } from "../../src/runtime/transport.ts";

Deno.test("parsePortRange() accepts LOW-HIGH and quotes anything else", () => {
  assert.deepEqual(parsePortRange("40000-40099"), [40000, 40099]);
  assert.deepEqual(parsePortRange("7-7"), [7, 7]);
  for (const bad of ["0-10", "10-5", "1-65536", "80", "a-b", " 1-2"]) {
    assert.throws(
      () => parsePortRange(bad),
      (e: unknown) =>
        e instanceof RangeError && e.message.includes(JSON.stringify(bad)),
    );
  }
});

function fakeNetwork(inUse: Set<number>, tried: number[]): Network {
  return {
    canBindSource: false,
    listen: () => Promise.reject(new Error("unused")),
    connect: () => Promise.reject(new Error("unused")),
    listenDatagram({ hostname, port }) {
      tried.push(port);
      if (inUse.has(port)) {
        return Promise.reject(new NetError("address_in_use", "in use"));
      }
      return Promise.resolve({ addr: { hostname, port } } as DatagramSocket);
    },
  };
}

Deno.test("listenDatagramIn() skips ports in use and tries each port once", async () => {
  const tried: number[] = [];
  const socket = await listenDatagramIn(
    fakeNetwork(new Set([5000, 5001, 5003]), tried),
    "127.0.0.1",
    [5000, 5003],
  );
  assert.equal(socket.addr.port, 5002);
  assert.ok(tried.every((p) => p >= 5000 && p <= 5003));
  assert.equal(new Set(tried).size, tried.length);
  const all: number[] = [];
  await assert.rejects(
    listenDatagramIn(fakeNetwork(new Set([1, 2, 3]), all), "::", [1, 3]),
    (e: unknown) => e instanceof NetError && e.kind === "address_in_use",
  );
  assert.deepEqual([...all].sort(), [1, 2, 3]);
});

Deno.test("listenDatagramIn() without a range lets the system pick", async () => {
  const tried: number[] = [];
  await listenDatagramIn(fakeNetwork(new Set(), tried), "0.0.0.0", null);
  assert.deepEqual(tried, [0]);
});
