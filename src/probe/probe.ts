/**
 * Probing a SOCKS5 server: which methods it accepts, which commands work
 * (CONNECT to IPv4, IPv6 and a name, BIND, UDP ASSOCIATE), how it takes a
 * handshake split byte by byte or pipelined in one write, whether it
 * forwards a half-close, and what it answers to an unknown command, an
 * unknown address type and a refused destination. Every check talks to the
 * probe's own targets on this host's loopback, so the server must run on
 * this host (or reach its loopback).
 *
 * @module
 */

import { udpAssociate } from "../client/udp_associate.ts";
import { closeQuietly } from "../core/close_quietly.ts";
import { FrameReader } from "../core/frame_reader.ts";
import { writeAll } from "../core/relay.ts";
import { type SocksAddress, toSocksAddress } from "../protocol/address.ts";
import { Command, Method, USERPASS_SUCCESS } from "../protocol/constants.ts";
import { SocksError } from "../protocol/errors.ts";
import { encodeGreeting } from "../protocol/greeting.ts";
import { isUnspecified } from "../protocol/ip.ts";
import { encodeRequest, readReply } from "../protocol/request.ts";
import { encodeUserPassRequest } from "../protocol/userpass.ts";
import type { Connection, Network } from "../runtime/transport.ts";
import { type LocalTargets, startLocalTargets } from "./local_targets.ts";

/** How one check ended. */
export type ProbeOutcome =
  /** It worked (for an error check: the server replied). */
  | "ok"
  /** The server answered with a failure reply (`reply`). */
  | "refused"
  /** The server closed the connection without replying. */
  | "closed"
  /** Nothing came back within the step timeout. */
  | "no_reply"
  /** Something else went wrong (`detail`). */
  | "failed"
  /** Not tried (`detail` says why). */
  | "skipped";

/** One check's result. */
export interface ProbeCheck {
  /** How it ended. */
  outcome: ProbeOutcome;
  /** The REP byte the server sent, when it sent one. */
  reply?: number;
  /** What happened, for people. */
  detail?: string;
}

/** How a server answered a greeting offering one method. */
export type MethodAnswer = "accepted" | "refused" | "closed" | "no_reply";

/** Everything the probe found. */
export interface ProbeReport {
  /** The server probed, `host:port`. */
  server: string;
  /** The answer to a greeting offering only this method. */
  methods: {
    noAuth: MethodAnswer;
    gssapi: MethodAnswer;
    userPass: MethodAnswer;
    /** The method chosen from an offer of no-auth and username/password. */
    preferred: number | null;
  };
  /** Whether the credentials given were accepted (`null`: none given). */
  login: boolean | null;
  /** Every check, by name. */
  checks: {
    connectIpv4: ProbeCheck;
    connectIpv6: ProbeCheck;
    connectName: ProbeCheck;
    connectRefused: ProbeCheck;
    bind: ProbeCheck;
    udpAssociate: ProbeCheck;
    splitHandshake: ProbeCheck;
    pipelined: ProbeCheck;
    halfClose: ProbeCheck;
    unknownCommand: ProbeCheck;
    badAddressType: ProbeCheck;
  };
  /** The short answer, derived from the checks. */
  supports: {
    connect: boolean;
    ipv6: boolean;
    names: boolean;
    bind: boolean;
    udp: boolean;
    splitHandshake: boolean;
    pipelining: boolean;
    halfClose: boolean;
  };
}

/** Options of {@linkcode probeServer}. */
export interface ProbeOptions {
  /** Sockets. */
  network: Network;
  /** Credentials for RFC 1929, if the server needs them. */
  auth?: { username: string; password: string } | null;
  /**
   * How long each step may wait for an answer, in ms.
   * @default {2000}
   */
  stepTimeoutMs?: number;
}

const _encoder = new TextEncoder();
const _decoder = new TextDecoder();

/**
 * Probes a server.
 *
 * @param server Where it listens.
 * @param options Network, credentials, step timeout.
 * @returns The report.
 * @throws {NetError} When the server cannot be reached at all.
 */
export async function probeServer(
  server: { hostname: string; port: number },
  options: ProbeOptions,
): Promise<ProbeReport> {
  const probe = new _Prober(server, options);
  // Reaching the server at all is the precondition; its failure is the
  // caller's error, not a check's.
  (await options.network.connect(server)).close();
  await using targets = await startLocalTargets(options.network);
  return await probe.run(targets);
}

class _Prober {
  #server: { hostname: string; port: number };
  #network: Network;
  #auth: { username: string; password: string } | null;
  #timeoutMs: number;

  constructor(
    server: { hostname: string; port: number },
    options: ProbeOptions,
  ) {
    this.#server = server;
    this.#network = options.network;
    this.#auth = options.auth ?? null;
    this.#timeoutMs = options.stepTimeoutMs ?? 2_000;
  }

  async run(t: LocalTargets): Promise<ProbeReport> {
    const methods = {
      noAuth: await this.#offer([Method.NO_AUTH]),
      gssapi: await this.#offer([Method.GSSAPI]),
      userPass: await this.#offer([Method.USERPASS]),
      preferred: await this.#preferred(),
    };
    const login = this.#auth === null ? null : await this.#loginWorks();
    const v4 = (port: number) => toSocksAddress("127.0.0.1", port);
    const checks: ProbeReport["checks"] = {
      connectIpv4: await this.#connectEcho(v4(t.echoPort), "ipv4"),
      connectIpv6: t.echo6Port === null
        ? { outcome: "skipped", detail: "no IPv6 loopback on this host" }
        : await this.#connectEcho(toSocksAddress("::1", t.echo6Port), "ipv6"),
      connectName: await this.#connectEcho(
        toSocksAddress("localhost", t.echoPort),
        "name",
      ),
      connectRefused: await this.#replyTo(
        encodeRequest(Command.CONNECT, v4(t.closedPort)),
      ),
      bind: await this.#bind(),
      udpAssociate: await this.#udp(t.udpEchoPort),
      splitHandshake: await this.#split(v4(t.echoPort)),
      pipelined: await this.#pipelined(v4(t.echoPort)),
      halfClose: await this.#halfClose(v4(t.afterEofPort)),
      // CMD X'09' is no RFC 1928 command.
      unknownCommand: await this.#replyTo(
        new Uint8Array([0x05, 0x09, 0x00, ...v4Bytes(t.echoPort)]),
      ),
      // ATYP X'05' is no RFC 1928 address type.
      badAddressType: await this.#replyTo(
        new Uint8Array([0x05, 0x01, 0x00, 0x05, 127, 0, 0, 1, 0, 80]),
      ),
    };
    const ok = (check: ProbeCheck) => check.outcome === "ok";
    return {
      server: `${this.#server.hostname}:${this.#server.port}`,
      methods,
      login,
      checks,
      supports: {
        connect: ok(checks.connectIpv4),
        ipv6: ok(checks.connectIpv6),
        names: ok(checks.connectName),
        bind: ok(checks.bind),
        udp: ok(checks.udpAssociate),
        splitHandshake: ok(checks.splitHandshake),
        pipelining: ok(checks.pipelined),
        halfClose: ok(checks.halfClose),
      },
    };
  }

  /** Offers exactly these methods; what did the server choose? */
  async #offer(methods: number[]): Promise<MethodAnswer> {
    const result = await this.#step(async (conn, reader) => {
      await writeAll(conn, encodeGreeting(methods));
      const choice = await reader.readExact(2);
      return { outcome: "ok", reply: choice[1]! };
    });
    if (result.outcome !== "ok") {
      return result.outcome === "no_reply" ? "no_reply" : "closed";
    }
    return methods.includes(result.reply!) ? "accepted" : "refused";
  }

  async #preferred(): Promise<number | null> {
    const result = await this.#step(async (conn, reader) => {
      await writeAll(conn, encodeGreeting([Method.NO_AUTH, Method.USERPASS]));
      return { outcome: "ok", reply: (await reader.readExact(2))[1]! };
    });
    return result.outcome === "ok" ? result.reply! : null;
  }

  async #loginWorks(): Promise<boolean> {
    const result = await this.#step(async (conn, reader) => {
      await this.#negotiate(conn, reader);
      return { outcome: "ok" };
    });
    return result.outcome === "ok";
  }

  /** CONNECT, then a payload must come back unchanged. */
  #connectEcho(destination: SocksAddress, tag: string): Promise<ProbeCheck> {
    return this.#step(async (conn, reader) => {
      await this.#negotiate(conn, reader);
      await writeAll(conn, encodeRequest(Command.CONNECT, destination));
      const refused = await _readSuccess(reader);
      if (refused) return refused;
      return await _echoes(conn, reader, `probe ${tag}`);
    });
  }

  /** Sends one request frame and reports the reply (or its absence). */
  #replyTo(request: Uint8Array): Promise<ProbeCheck> {
    return this.#step(async (conn, reader) => {
      await this.#negotiate(conn, reader);
      await writeAll(conn, request);
      const { reply } = await readReply(reader);
      return { outcome: reply === 0 ? "ok" : "refused", reply };
    });
  }

  #bind(): Promise<ProbeCheck> {
    return this.#step(async (conn, reader) => {
      await this.#negotiate(conn, reader);
      await writeAll(
        conn,
        encodeRequest(Command.BIND, toSocksAddress("0.0.0.0", 0)),
      );
      const first = await readReply(reader);
      if (first.reply !== 0) {
        return { outcome: "refused", reply: first.reply };
      }
      const host = isUnspecified(first.bound.host)
        ? this.#server.hostname
        : first.bound.host;
      const peer = await this.#network.connect({
        hostname: host,
        port: first.bound.port,
      });
      try {
        const second = await readReply(reader);
        if (second.reply !== 0) {
          return { outcome: "refused", reply: second.reply };
        }
        await writeAll(peer, _encoder.encode("probe bind"));
        const got = _decoder.decode(await reader.readExact(10));
        return got === "probe bind"
          ? { outcome: "ok", reply: 0 }
          : { outcome: "failed", detail: `peer's bytes arrived as ${got}` };
      } finally {
        closeQuietly(peer);
      }
    });
  }

  async #udp(echoPort: number): Promise<ProbeCheck> {
    using deadline = _deadline(this.#timeoutMs);
    const { signal } = deadline;
    let association;
    try {
      association = await udpAssociate({
        proxy: this.#server,
        ...(this.#auth ? { auth: this.#auth } : {}),
        network: this.#network,
        signal,
      });
    } catch (error) {
      return _classify(error, signal);
    }
    try {
      const data = _encoder.encode("probe udp");
      await association.send(data, { host: "127.0.0.1", port: echoPort });
      const answer = await _within(
        association.receive(),
        signal,
        () => association.close(),
      );
      return _decoder.decode(answer.data) === "probe udp"
        ? { outcome: "ok", reply: 0 }
        : { outcome: "failed", detail: "the echo came back altered" };
    } catch (error) {
      return signal.aborted
        ? { outcome: "no_reply", reply: 0, detail: "no datagram came back" }
        : _classify(error, signal);
    } finally {
      association.close();
    }
  }

  /** Every frame written one byte per write. */
  #split(destination: SocksAddress): Promise<ProbeCheck> {
    return this.#step(async (conn, reader) => {
      const bytes = async (frame: Uint8Array) => {
        for (const byte of frame) {
          await writeAll(conn, new Uint8Array([byte]));
          // A macrotask between bytes, so each goes out in its own segment.
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      };
      await bytes(encodeGreeting([this.#method()]));
      const choice = await reader.readExact(2);
      if (choice[1] !== this.#method()) {
        return {
          outcome: "failed",
          detail: `a greeting sent byte by byte was answered 0x${
            choice[1]!.toString(16).padStart(2, "0")
          }`,
        };
      }
      if (this.#auth) {
        await bytes(
          encodeUserPassRequest(this.#auth.username, this.#auth.password),
        );
        if ((await reader.readExact(2))[1] !== USERPASS_SUCCESS) {
          return { outcome: "failed", detail: "login refused" };
        }
      }
      await bytes(encodeRequest(Command.CONNECT, destination));
      const refused = await _readSuccess(reader);
      return refused ?? await _echoes(conn, reader, "probe split");
    });
  }

  /** Greeting, login, request and payload in one write. */
  #pipelined(destination: SocksAddress): Promise<ProbeCheck> {
    return this.#step(async (conn, reader) => {
      const payload = _encoder.encode("probe pipelined");
      const frames = [
        encodeGreeting([this.#method()]),
        ...(this.#auth
          ? [encodeUserPassRequest(this.#auth.username, this.#auth.password)]
          : []),
        encodeRequest(Command.CONNECT, destination),
        payload,
      ];
      await writeAll(conn, _concat(frames));
      await reader.readExact(2);
      if (this.#auth) await reader.readExact(2);
      const refused = await _readSuccess(reader);
      if (refused) return refused;
      const got = _decoder.decode(await reader.readExact(payload.length));
      return got === "probe pipelined"
        ? { outcome: "ok", reply: 0 }
        : { outcome: "failed", detail: `echo came back as ${got}` };
    });
  }

  /** CONNECT, send, half-close; the target answers only after the FIN. */
  #halfClose(destination: SocksAddress): Promise<ProbeCheck> {
    return this.#step(async (conn, reader) => {
      await this.#negotiate(conn, reader);
      await writeAll(conn, encodeRequest(Command.CONNECT, destination));
      const refused = await _readSuccess(reader);
      if (refused) return refused;
      await writeAll(conn, _encoder.encode("12345"));
      await conn.closeWrite();
      const got = _decoder.decode(await reader.readExact(11));
      return got === "got 5 bytes"
        ? { outcome: "ok", reply: 0 }
        : { outcome: "failed", detail: `target answered ${got}` };
    });
  }

  #method(): number {
    return this.#auth ? Method.USERPASS : Method.NO_AUTH;
  }

  /** Greeting (and login): the server must accept. */
  async #negotiate(conn: Connection, reader: FrameReader): Promise<void> {
    await writeAll(conn, encodeGreeting([this.#method()]));
    const choice = await reader.readExact(2);
    if (choice[1] !== this.#method()) {
      throw new _StepFailed(
        `the server did not accept method 0x0${this.#method()} (answered 0x${
          choice[1]!.toString(16).padStart(2, "0")
        })`,
      );
    }
    if (this.#auth) {
      await writeAll(
        conn,
        encodeUserPassRequest(this.#auth.username, this.#auth.password),
      );
      if ((await reader.readExact(2))[1] !== USERPASS_SUCCESS) {
        throw new _StepFailed("the server refused the username or password");
      }
    }
  }

  /**
   * Runs one check on a fresh connection under the step timeout; the
   * connection is closed afterwards, whatever happened.
   */
  async #step(
    check: (conn: Connection, reader: FrameReader) => Promise<ProbeCheck>,
  ): Promise<ProbeCheck> {
    using deadline = _deadline(this.#timeoutMs);
    const { signal } = deadline;
    let conn: Connection;
    try {
      conn = await this.#network.connect({ ...this.#server, signal });
    } catch (error) {
      return _classify(error, signal);
    }
    const onAbort = () => closeQuietly(conn);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await check(conn, new FrameReader(conn, { greedy: false }));
    } catch (error) {
      return _classify(error, signal);
    } finally {
      signal.removeEventListener("abort", onAbort);
      closeQuietly(conn);
    }
  }
}

class _StepFailed extends Error {}

/** A timeout signal whose timer is cleared on dispose. */
function _deadline(ms: number): Disposable & { signal: AbortSignal } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("Step timed out", "TimeoutError")),
    ms,
  );
  return {
    signal: controller.signal,
    [Symbol.dispose]: () => clearTimeout(timer),
  };
}

/** Reads a reply; `null` on success, else the check's result. */
async function _readSuccess(reader: FrameReader): Promise<ProbeCheck | null> {
  const { reply } = await readReply(reader);
  return reply === 0 ? null : { outcome: "refused", reply };
}

async function _echoes(
  conn: Connection,
  reader: FrameReader,
  text: string,
): Promise<ProbeCheck> {
  await writeAll(conn, _encoder.encode(text));
  const got = _decoder.decode(await reader.readExact(text.length));
  return got === text
    ? { outcome: "ok", reply: 0 }
    : { outcome: "failed", detail: `echo came back as ${got}` };
}

function _classify(error: unknown, signal: AbortSignal): ProbeCheck {
  if (signal.aborted) return { outcome: "no_reply" };
  if (error instanceof _StepFailed) {
    return { outcome: "failed", detail: error.message };
  }
  if (error instanceof SocksError && !(error.name === "ProtocolError")) {
    return { outcome: "refused", reply: error.reply };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (
    error instanceof Error &&
    (error.name === "UnexpectedEofError" || error.name === "NetError")
  ) {
    return { outcome: "closed", detail: message };
  }
  return { outcome: "failed", detail: message };
}

/** Rejects when the signal aborts first, calling `cancel`. */
function _within<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  cancel: () => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cancel();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}

function v4Bytes(port: number): number[] {
  return [0x01, 127, 0, 0, 1, port >> 8, port & 0xff];
}

function _concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
