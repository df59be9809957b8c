/**
 * Per-user and per-client limits through the library server. Timings are
 * asserted as lower bounds only.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect, type Connection } from "../../src/mod.ts";
import { LocalBucket } from "../../src/policy/limits.ts";
import { SharedCounters } from "../../src/policy/shared_counters.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import {
  answerAfterEofTarget,
  echoTarget,
  payload,
  sourceTarget,
} from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { sleep } from "../_helpers/wait.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

async function readAll(conn: Connection): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * KiB);
  let total = 0;
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

async function writeAll(conn: Connection, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}

/** Waits until the table's window of `windowMs` has at least `roomMs` left. */
async function freshWindow(
  counters: SharedCounters,
  windowMs: number,
  roomMs: number,
): Promise<void> {
  const into = counters.tick() % windowMs;
  if (windowMs - into < roomMs) {
    await sleep(windowMs - into + 5);
  }
}

Deno.test("a 1 MiB download at 256 KiB/s per session takes at least 3.5 s, and every byte arrives", async () => {
  const bytes = payload(MiB, 9);
  await using target = sourceTarget(bytes);
  await using s = await startServer({
    limits: { sessionDownload: 256 * KiB },
  });
  const started = performance.now();
  const { conn } = await connect(
    { host: "127.0.0.1", port: target.addr.port },
    { proxy: s.addr },
  );
  const received = await readAll(conn);
  const elapsed = performance.now() - started;
  conn.close();
  assert.deepStrictEqual(received, bytes);
  assert.ok(elapsed >= 3_500, `took ${elapsed.toFixed(0)} ms`);
});

Deno.test("a 1 MiB upload at 256 KiB/s per session takes at least 3.5 s", async () => {
  await using target = answerAfterEofTarget();
  await using s = await startServer({ limits: { sessionUpload: 256 * KiB } });
  const started = performance.now();
  const { conn } = await connect(
    { host: "127.0.0.1", port: target.addr.port },
    { proxy: s.addr },
  );
  await writeAll(conn, payload(MiB, 3));
  await conn.closeWrite();
  const answer = new TextDecoder().decode(await readAll(conn));
  const elapsed = performance.now() - started;
  conn.close();
  assert.equal(answer, `got ${MiB} bytes`);
  assert.ok(elapsed >= 3_500, `took ${elapsed.toFixed(0)} ms`);
});

Deno.test("a per-user download limit is shared by the user's sessions: 2 x 512 KiB at 256 KiB/s take at least 3.5 s", async () => {
  const bytes = payload(512 * KiB, 5);
  await using target = sourceTarget(bytes);
  await using s = await startServer({
    users: { alice: "pw" },
    limits: { userDownload: 256 * KiB },
  });
  const started = performance.now();
  const both = await Promise.all([1, 2].map(async () => {
    const { conn } = await connect(
      { host: "127.0.0.1", port: target.addr.port },
      { proxy: s.addr, auth: { username: "alice", password: "pw" } },
    );
    try {
      return await readAll(conn);
    } finally {
      conn.close();
    }
  }));
  const elapsed = performance.now() - started;
  for (const received of both) assert.deepStrictEqual(received, bytes);
  assert.ok(elapsed >= 3_500, `took ${elapsed.toFixed(0)} ms`);
});

Deno.test("LocalBucket makes a sender wait for its debt", () => {
  const bucket = new LocalBucket(1000);
  // The bucket starts with a quarter second (250 bytes).
  assert.equal(bucket.consume(250), 0);
  const wait = bucket.consume(500);
  assert.ok(wait >= 490, `wait ${wait}`);
});

Deno.test("concurrent sessions per user are limited after authentication (REP 02), and freed when they end", async () => {
  await using target = echoTarget();
  await using s = await startServer({
    users: { alice: "pw", bob: "pw" },
    limits: { sessionsPerUser: 2 },
  });
  const open = (username: string) =>
    connect({ host: "127.0.0.1", port: target.addr.port }, {
      proxy: s.addr,
      auth: { username, password: "pw" },
    });
  const first = await open("alice");
  const second = await open("alice");
  await assert.rejects(open("alice"), /not allowed/);
  // Another user is not affected.
  const bob = await open("bob");
  bob.conn.close();
  first.conn.close();
  // The session's end frees its place (the access log line comes after).
  await s.sessions(3);
  const third = await open("alice");
  third.conn.close();
  second.conn.close();
  const refused = (await s.sessions(5)).filter((l) => l.reply === 2);
  assert.equal(refused.length, 1);
  assert.equal(refused[0]!.error, "Too many sessions for this user");
});

Deno.test("concurrent sessions per client IP are limited", async () => {
  await using target = echoTarget();
  await using s = await startServer({ limits: { sessionsPerClient: 1 } });
  const first = await connect(
    { host: "127.0.0.1", port: target.addr.port },
    { proxy: s.addr },
  );
  await assert.rejects(
    connect({ host: "127.0.0.1", port: target.addr.port }, { proxy: s.addr }),
    /not allowed/,
  );
  first.conn.close();
});

Deno.test("new connections per second per client IP beyond the limit are closed at once", async () => {
  const counters = SharedCounters.create();
  await using s = await startServer({
    limits: { connRatePerClient: 5 },
    sharedLimits: counters.buffer,
  });
  await freshWindow(counters, 1_000, 600);
  const clients = await Promise.all(
    Array.from({ length: 12 }, () => RawClient.open(s.addr)),
  );
  let answered = 0;
  for (const client of clients) {
    await client.send("05 01 00");
    const closed = await client.closedByPeer();
    if (!closed) answered++;
    client.close();
  }
  // Within one window exactly 5 are admitted; a burst spanning two windows
  // could admit up to 10, never more.
  assert.ok(answered >= 5 && answered <= 10, `answered ${answered}`);
  assert.ok(s.metrics.get("sessions_rejected_total") >= 2);
});

Deno.test("failed logins per client IP are throttled: a right password is refused unchecked after the limit", async () => {
  const counters = SharedCounters.create();
  await using s = await startServer({
    users: { alice: "right" },
    limits: { authFailuresPerMinute: 3 },
    sharedLimits: counters.buffer,
  });
  await freshWindow(counters, 60_000, 10_000);
  const login = async (password: string) => {
    using client = await RawClient.open(s.addr);
    const pass = new TextEncoder().encode(password);
    await client.send(
      Uint8Array.of(
        5,
        1,
        2,
        1,
        5,
        ...new TextEncoder().encode("alice"),
        pass.length,
        ...pass,
      ),
    );
    await client.read(2);
    return await client.readHex(2);
  };
  assert.equal(await login("right"), "01 00");
  for (let i = 0; i < 3; i++) assert.equal(await login("wrong"), "01 01");
  assert.equal(await login("right"), "01 01");
  assert.equal(s.metrics.get("auth_failures_total"), 4);
});
