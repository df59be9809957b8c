import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { NetError } from "../../../src/runtime/net_error.ts";
import {
  denoNetError,
  denoNetwork,
} from "../../../src/runtime/deno/network.ts";

const LISTER = fileURLToPath(
  new URL("../../_helpers/tcp_sockets.py", import.meta.url),
);

function nodelayByLocalPort(): Map<string, boolean> {
  const out = new Deno.Command("python3", {
    args: [LISTER, String(Deno.pid)],
    stdout: "piped",
  }).outputSync();
  assert.ok(out.success, "tcp_sockets.py failed");
  const map = new Map<string, boolean>();
  for (const line of new TextDecoder().decode(out.stdout).trim().split("\n")) {
    if (!line) continue;
    const { local, nodelay } = JSON.parse(line);
    map.set(local, nodelay);
  }
  return map;
}

Deno.test({
  name:
    "denoNetwork sets TCP_NODELAY on every connection it hands out, accepted or dialed",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const listener = await denoNetwork.listen({
      hostname: "127.0.0.1",
      port: 0,
    });
    const dialed = await denoNetwork.connect({
      hostname: "127.0.0.1",
      port: listener.addr.port,
    });
    const accepted = await listener.accept();
    // A socket made without the adapter, as the control: off by default.
    const plain = await Deno.connect({
      hostname: "127.0.0.1",
      port: listener.addr.port,
    });
    const plainPeer = await listener.accept();
    try {
      const nodelay = nodelayByLocalPort();
      const key = (a: { hostname: string; port: number }) =>
        `${a.hostname}:${a.port}`;
      assert.equal(nodelay.get(key(dialed.localAddr)), true);
      assert.equal(nodelay.get(key(accepted.localAddr)), true);
      assert.equal(nodelay.get(key(plain.localAddr)), false);
    } finally {
      for (const c of [dialed, accepted, plain, plainPeer]) c.close();
      listener.close();
    }
  },
});

Deno.test("denoNetwork reports a refused connection as NetError kind refused", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  await assert.rejects(
    denoNetwork.connect({ hostname: "127.0.0.1", port }),
    (error: unknown) =>
      error instanceof NetError && error.kind === "refused" &&
      error.code === "ECONNREFUSED",
  );
});

Deno.test("denoNetwork rejects accept() with kind closed when the listener is closed", async () => {
  const listener = await denoNetwork.listen({ hostname: "127.0.0.1", port: 0 });
  const pending = listener.accept();
  listener.close();
  await assert.rejects(
    pending,
    (error: unknown) => error instanceof NetError && error.kind === "closed",
  );
});

Deno.test("denoNetwork rejects connect() with the signal's reason when aborted", async () => {
  const controller = new AbortController();
  const reason = new DOMException("Connect timed out", "TimeoutError");
  controller.abort(reason);
  await assert.rejects(
    denoNetwork.connect({
      hostname: "127.0.0.1",
      port: 9,
      signal: controller.signal,
    }),
    (error: unknown) => error === reason,
  );
});

Deno.test("denoNetError() maps Deno errors by code, else by class", async (t) => {
  const cases: Array<[string, unknown, string]> = [
    [
      "code wins",
      Object.assign(new Error("x"), { code: "EHOSTUNREACH" }),
      "host_unreachable",
    ],
    [
      "ConnectionRefused without code",
      new Deno.errors.ConnectionRefused("x"),
      "refused",
    ],
    [
      "NetworkUnreachable",
      new Deno.errors.NetworkUnreachable("x"),
      "network_unreachable",
    ],
    ["TimedOut", new Deno.errors.TimedOut("x"), "timed_out"],
    [
      "PermissionDenied",
      new Deno.errors.PermissionDenied("x"),
      "permission_denied",
    ],
    ["BadResource", new Deno.errors.BadResource("x"), "closed"],
    ["NotConnected", new Deno.errors.NotConnected("x"), "aborted"],
    ["anything else", new Error("boom"), "other"],
  ];
  for (const [name, error, kind] of cases) {
    await t.step(name, () => {
      const converted = denoNetError(error);
      assert.ok(converted instanceof NetError);
      assert.equal(converted.kind, kind);
      assert.equal(converted.cause, error);
    });
  }
});
