// The registry client's HTTP layer against a small Node server on 127.0.0.1: connections go back to
// the pool, repeated headers, request lengths, stall timeouts and abort.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { BODY_STALLED, HEADERS_STALLED, HttpConnections } from "../../../transports/docker/http-exchange.js";
import { readCapped } from "../../../transports/docker/registry-client.js";
import { explainNetworkError } from "../../../transports/docker/registry-errors.js";

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

describe("docker:// HTTP exchange", () => {
  let server: Server;
  let base: URL;
  let handler: Handler = (_req, res) => res.end();
  let connectionsSeen = 0;

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => handler(req, res, Buffer.concat(chunks)));
    });
    server.on("connection", () => connectionsSeen++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const pool = (stallTimeoutMs = 30_000): HttpConnections => new HttpConnections({ rejectUnauthorized: true, stallTimeoutMs, connections: 4 });

  it("a dumped answer that has already arrived whole gives its connection back (the next request reuses it)", async () => {
    handler = (_req, res) => res.end("{}");
    const conns = pool();
    try {
      const before = connectionsSeen;
      const first = await conns.send(new URL("/v2/", base), { method: "GET" });
      await new Promise((resolve) => setTimeout(resolve, 50)); // the whole body is in before dump() is called
      await first.body.dump();
      const second = await conns.send(new URL("/v2/", base), { method: "GET" });
      assert.equal(await readCapped(second.body, 1 << 20), "{}");
      assert.equal(connectionsSeen - before, 1, "both requests went over one connection");
    } finally {
      conns.close();
    }
  });

  it("a kept-alive connection the server drops as it is reused: the request goes again on a new one", async () => {
    const perConnection = new WeakMap<object, number>();
    handler = (req, res) => {
      const n = (perConnection.get(req.socket) ?? 0) + 1;
      perConnection.set(req.socket, n);
      if (n > 1) {
        req.socket.destroy(); // the second request on a connection: closed without an answer
        return;
      }
      res.end("ok");
    };
    const conns = pool();
    try {
      const first = await conns.send(new URL("/a", base), { method: "GET" });
      assert.equal(await readCapped(first.body, 1 << 20), "ok");
      const second = await conns.send(new URL("/b", base), { method: "GET" });
      assert.equal(await readCapped(second.body, 1 << 20), "ok");
    } finally {
      conns.close();
    }
  });

  it("https to a plain-HTTP server: one line saying so (OpenSSL's reason, not its raw error text)", async () => {
    handler = (_req, res) => res.end();
    const conns = new HttpConnections({ ca: [], rejectUnauthorized: false, stallTimeoutMs: 30_000, connections: 4 });
    try {
      const url = new URL(`https://${base.host}/v2/`);
      const err = await conns.send(url, { method: "GET" }).then(
        () => assert.fail("https to a plain-HTTP server answered"),
        (e: unknown) => e,
      );
      const message = (explainNetworkError(err, "pinging", base.host) as Error).message;
      assert.equal(message, `pinging: TLS with ${base.host} failed: wrong version number (it may speak plain HTTP: use --tls-verify=false)`);
    } finally {
      conns.close();
    }
  });

  it("a header sent twice (WWW-Authenticate) comes as an array, a single one as a string", async () => {
    handler = (_req, res) => {
      res.setHeader("www-authenticate", ['Bearer realm="https://a/token"', 'Basic realm="b"']);
      res.setHeader("docker-distribution-api-version", "registry/2.0");
      res.statusCode = 401;
      res.end();
    };
    const conns = pool();
    try {
      const res = await conns.send(new URL("/v2/", base), { method: "GET" });
      await res.body.dump();
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.headers["www-authenticate"], ['Bearer realm="https://a/token"', 'Basic realm="b"']);
      assert.equal(res.headers["docker-distribution-api-version"], "registry/2.0");
    } finally {
      conns.close();
    }
  });

  it("sends Content-Length for a string body and 0 for a bodiless PUT; streams a Readable", async () => {
    const seen: string[] = [];
    handler = (req, res, body) => {
      seen.push(`${req.method} ${req.headers["content-length"] ?? "-"} ${req.headers["transfer-encoding"] ?? "-"} ${body.length}`);
      res.end();
    };
    const conns = pool();
    try {
      for (const opts of [
        { method: "POST", body: "héllo" },
        { method: "PUT" },
        { method: "PATCH", body: Readable.from([Buffer.alloc(70_000, 1), Buffer.alloc(5, 2)]) },
      ]) {
        const res = await conns.send(new URL("/x", base), opts);
        await res.body.dump();
      }
      assert.deepEqual(seen, ["POST 6 - 6", "PUT 0 - 0", "PATCH - chunked 70005"]);
    } finally {
      conns.close();
    }
  });

  it("a server that never answers fails the request after the stall timeout", async () => {
    handler = () => undefined; // never answers
    const conns = pool(200);
    try {
      await assert.rejects(conns.send(new URL("/v2/", base), { method: "GET" }), (err: NodeJS.ErrnoException) => err.code === HEADERS_STALLED);
    } finally {
      conns.close();
      server.closeAllConnections();
    }
  });

  it("a body that stops arriving fails with the body stall code", async () => {
    handler = (_req, res) => {
      res.setHeader("content-length", "100");
      res.write(Buffer.alloc(10)); // and nothing more
    };
    const conns = pool(200);
    try {
      const res = await conns.send(new URL("/blob", base), { method: "GET" });
      await assert.rejects(readCapped(res.body, 1 << 20), (err: NodeJS.ErrnoException) => err.code === BODY_STALLED);
    } finally {
      conns.close();
      server.closeAllConnections();
    }
  });

  it("a body its reader holds back longer than the stall timeout is not a stall", async () => {
    handler = (_req, res) => res.end(Buffer.alloc(300_000, 3)); // more than the client buffers before it stops reading
    const conns = pool(200);
    try {
      const res = await conns.send(new URL("/blob", base), { method: "GET" });
      await new Promise((resolve) => setTimeout(resolve, 700)); // nobody reads yet (a destination busy with another layer)
      assert.equal((await readCapped(res.body, 1 << 20)).length, 300_000);
      const paused = await conns.send(new URL("/blob", base), { method: "GET" });
      let got = 0;
      paused.body.on("data", (chunk: Buffer) => {
        got += chunk.length;
        if (got === chunk.length) {
          paused.body.pause(); // a full pipe downstream
          setTimeout(() => paused.body.resume(), 700);
        }
      });
      await new Promise((resolve, reject) => paused.body.once("end", resolve).once("error", reject));
      assert.equal(got, 300_000);
    } finally {
      conns.close();
    }
  });

  it("an abort rejects a waiting request with the signal's reason and stops a body being read", async () => {
    handler = (req, res) => {
      if (req.url === "/slow") return; // never answers
      res.setHeader("content-length", "100");
      res.write(Buffer.alloc(10));
    };
    const conns = pool();
    try {
      const waiting = new AbortController();
      const pending = conns.send(new URL("/slow", base), { method: "GET", signal: waiting.signal });
      const reason = new Error("stop now");
      setTimeout(() => waiting.abort(reason), 50);
      await assert.rejects(pending, (err) => err === reason);

      const reading = new AbortController();
      const res = await conns.send(new URL("/blob", base), { method: "GET", signal: reading.signal });
      const text = readCapped(res.body, 1 << 20);
      setTimeout(() => reading.abort(reason), 50);
      await assert.rejects(text, (err) => err === reason);
    } finally {
      conns.close();
      server.closeAllConnections();
    }
  });
});
