// The fault proxy must not lose a keep-alive client's next request: a client that has the whole
// answer may send its next request before the upstream's close reaches the proxy (CI saw a GET
// lost that way, then a 120 s header timeout). The upstream here answers one request per
// connection and closes late, as a loaded registry does after Connection: close.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { startFaultProxy, type FaultProxy } from "./fault-proxy.js";

const CLOSE_DELAY_MS = 400;

/** Answers the first request on each connection with its method and path, then closes after a delay, reading nothing more. */
function lateClosingServer(): Promise<{ server: Server; port: number; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((socket) => {
    let head = Buffer.alloc(0);
    let answered = false;
    let body = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      if (answered) return;
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const text = head.subarray(0, end).toString("latin1");
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0);
      body = head.subarray(end + 4);
      const chunked = /\r\ntransfer-encoding:\s*chunked/i.test(text);
      if (chunked ? !body.includes("0\r\n\r\n") : body.length < length) return;
      answered = true;
      const line = text.split("\r\n")[0]!;
      requests.push(line);
      const answer = `${line} ${body.length}`;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${answer.length}\r\nConnection: close\r\n\r\n${answer}`);
      setTimeout(() => socket.end(), CLOSE_DELAY_MS);
    });
    socket.on("error", () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve({ server, port: typeof a === "object" && a ? a.port : 0, requests });
    }),
  );
}

/** Reads answers framed by Content-Length off one socket, in order. */
function answerReader(socket: Socket): () => Promise<string> {
  let buffered = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  });
  return async () => {
    for (;;) {
      const end = buffered.indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = buffered.subarray(0, end).toString("latin1");
        assert.ok(!/\r\nconnection:\s*close/i.test(head), "the proxy keeps the client's connection open");
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1]);
        if (buffered.length >= end + 4 + length) {
          const body = buffered.subarray(end + 4, end + 4 + length).toString("latin1");
          buffered = buffered.subarray(end + 4 + length);
          return body;
        }
      }
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer within 5 s; have ${JSON.stringify(buffered.toString("latin1"))}`)), 5000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
}

describe("fault proxy: keep-alive framing", () => {
  let upstream: Awaited<ReturnType<typeof lateClosingServer>>;
  let proxy: FaultProxy;
  before(async () => {
    upstream = await lateClosingServer();
    proxy = await startFaultProxy({ port: upstream.port });
  });
  after(async () => {
    await proxy.stop();
    await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
  });

  it("forwards a request sent the moment the previous answer is complete, before the upstream has closed", async () => {
    const socket = connect(proxy.port, "127.0.0.1");
    const next = answerReader(socket);
    try {
      socket.write(`GET /v2/a HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(await next(), "GET /v2/a HTTP/1.1 0");
      socket.write(`GET /v2/b HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(await next(), "GET /v2/b HTTP/1.1 0");
    } finally {
      socket.destroy();
    }
  });

  it("frames bodies by Content-Length and by chunked encoding, even when the next request arrives in the same packet", async () => {
    const socket = connect(proxy.port, "127.0.0.1");
    const next = answerReader(socket);
    try {
      socket.write(`PUT /v2/m HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`);
      assert.equal(await next(), "PUT /v2/m HTTP/1.1 5");
      const chunked = `PATCH /v2/u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n`;
      socket.write(`${chunked}GET /v2/after HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(await next(), `PATCH /v2/u HTTP/1.1 ${"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n".length}`);
      assert.equal(await next(), "GET /v2/after HTTP/1.1 0");
      assert.deepEqual(
        proxy.seen.slice(-3).map((r) => `${r.method} ${r.path}`),
        ["PUT /v2/m", "PATCH /v2/u", "GET /v2/after"],
      );
    } finally {
      socket.destroy();
    }
  });
});
