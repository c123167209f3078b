// A fault-injecting TCP proxy (node:net) in front of a test registry: per request it can cut the
// answer after N bytes, reset, answer 429/503 with Retry-After, stall, drop a Range header so the
// registry answers 200, or check chunk uploads' Content-Range as distribution 3 does. Each request
// goes to the registry on its own connection (it asks for Connection: close), so each is seen and
// matched; the client keeps its connection, and its requests are framed so that none is lost.
import { connect, createServer, type Server, type Socket } from "node:net";

export type Fault =
  | { kind: "cut"; afterBytes: number }
  | { kind: "reset" }
  | { kind: "status"; status: 429 | 503 | 502; retryAfter?: number }
  | { kind: "stall" }
  | { kind: "range-as-200" }
  /** 307 to the same path on another origin ("http://127.0.0.1:PORT"), as registries do to blob storage. */
  | { kind: "redirect"; origin: string }
  /** Forwarded as usual, with this "Name: value" line added to the registry's answer. */
  | { kind: "add-header"; header: string }
  /**
   * Checks a chunk PATCH as distribution 3 does (2.8 ignores Content-Range): one that does not start where
   * the upload is (as the registry's last PATCH answer through this proxy said) gets 416, with the
   * registry's Range when `withRange`, else without (the client must GET the upload's status); others pass.
   * Its answers, and a status GET on the upload, use the upload's latest Location (distribution's `_state`
   * there is only valid at the offset it was made for).
   */
  | { kind: "enforce-content-range"; withRange: boolean };

export interface FaultRule {
  method?: string;
  path: RegExp;
  /** Only requests that carry (true) / lack (false) a Range header. */
  withRange?: boolean;
  /** Only requests with a header line ("Name: value") matching this. */
  header?: RegExp;
  fault: Fault;
  /** How many matching requests get the fault (then they pass). */
  times: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  range: string | undefined;
  contentRange?: string | undefined;
  /** Whether the request carried an Authorization header. */
  authorization: boolean;
  fault: Fault["kind"] | undefined;
}

export interface FaultProxy {
  host: string;
  port: number;
  add(rule: FaultRule): void;
  seen: SeenRequest[];
  stop(): Promise<void>;
}

const HEAD_END = "\r\n\r\n";

export async function startFaultProxy(target: { port: number }): Promise<FaultProxy> {
  const rules: FaultRule[] = [];
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  /** Bytes each upload (by its UUID) holds, from the Range of the registry's PATCH answers. */
  const uploadSizes = new Map<string, number>();
  /** Each upload's latest Location, from the registry's answers. */
  const uploadLocations = new Map<string, string>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
  };

  const server: Server = createServer((client) => {
    track(client);
    /** Client bytes not yet handed on: the next request's head (and what follows it). */
    let buffered = Buffer.alloc(0);
    /** Set while a request is being answered; undefined = waiting for the next request head. */
    let active: { body: BodyFraming; sink: (bytes: Buffer) => void } | undefined;
    let passThrough: Socket | undefined;
    // Client bytes are framed by the request's own Content-Length or chunked encoding, so the next
    // request, which a keep-alive client may send the moment it has the whole answer (before the
    // registry's close reaches us), waits for its turn instead of going to the closing upstream.
    const pump = (): void => {
      for (;;) {
        if (active) {
          if (buffered.length === 0) return;
          const used = active.body.take(buffered);
          if (used > 0) active.sink(buffered.subarray(0, used));
          buffered = buffered.subarray(used);
          return;
        }
        const end = buffered.indexOf(HEAD_END);
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString("latin1");
        buffered = buffered.subarray(end + HEAD_END.length);
        const body = bodyFraming(head);
        const current: { body: BodyFraming; sink: (bytes: Buffer) => void } = { body, sink: () => undefined };
        active = current;
        const up = forward(client, head, () => {
          if (active !== current) return;
          active = undefined;
          queueMicrotask(pump);
        });
        if (up) current.sink = (bytes) => up.write(bytes);
      }
    };
    client.on("data", (chunk: Buffer) => {
      if (passThrough) {
        passThrough.write(chunk);
        return;
      }
      buffered = Buffer.concat([buffered, chunk]);
      if (!active && buffered[0] === 0x16) {
        // A TLS ClientHello (an https ping): pass the connection through untouched.
        passThrough = rawPassThrough(client, buffered);
        return;
      }
      pump();
    });
  });

  const rawPassThrough = (client: Socket, first: Buffer): Socket => {
    const up = connect(target.port, "127.0.0.1");
    track(up);
    up.write(first);
    up.pipe(client);
    up.on("close", () => client.destroy());
    client.on("close", () => up.destroy());
    return up;
  };

  /**
   * Forwards one request on a fresh upstream connection (asking it to close after the answer) and
   * relays the answer without its "Connection: close", so the client keeps its connection for the next
   * request; `done` is called when the answer has been relayed. Returns the upstream socket (or undefined
   * when the fault answers itself).
   */
  const forward = (client: Socket, head: string, done: () => void): Socket | undefined => {
    const [requestLine = "", ...headerLines] = head.split("\r\n");
    const [method = "", path = ""] = requestLine.split(" ");
    const headers = headerLines.filter((l) => !/^connection:/i.test(l));
    const range = headers.find((l) => /^range:/i.test(l))?.slice("range:".length).trim();
    const contentRange = headers.find((l) => /^content-range:/i.test(l))?.slice("content-range:".length).trim();
    const rule = rules.find(
      (r) =>
        r.times > 0 &&
        (r.method === undefined || r.method === method) &&
        r.path.test(path) &&
        (r.withRange === undefined || r.withRange === (range !== undefined)) &&
        (r.header === undefined || headers.some((l) => r.header!.test(l))),
    );
    if (rule) rule.times--;
    const fault = rule?.fault;
    const authorization = headers.some((l) => /^authorization:/i.test(l));
    const upload = /\/blobs\/uploads\/([^/?]+)/.exec(path)?.[1];
    const held = upload === undefined ? 0 : (uploadSizes.get(upload) ?? 0);
    const misplaced = fault?.kind === "enforce-content-range" && contentRange !== undefined && Number(contentRange.split("-")[0]) !== held;
    seen.push({ method, path, range, contentRange, authorization, fault: fault?.kind === "enforce-content-range" && !misplaced ? undefined : fault?.kind });
    const latest = upload === undefined ? undefined : uploadLocations.get(upload);
    if (fault?.kind === "enforce-content-range" && misplaced) {
      const rangeLine = fault.withRange && held > 0 ? `Range: 0-${held - 1}\r\n` : "";
      const locationLine = `Location: ${latest ?? path}\r\n`;
      const body = JSON.stringify({ errors: [{ code: "RANGE_INVALID", message: "invalid content range" }] });
      client.end(`HTTP/1.1 416 Requested Range Not Satisfiable\r\n${rangeLine}${locationLine}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return undefined;
    }
    if (fault?.kind === "redirect") {
      client.write(`HTTP/1.1 307 Temporary Redirect\r\nLocation: ${fault.origin}${path}\r\nContent-Length: 0\r\n\r\n`);
      done();
      return undefined;
    }
    if (fault?.kind === "reset") {
      client.resetAndDestroy();
      return undefined;
    }
    if (fault?.kind === "stall") {
      client.pause(); // never answers; destroyed on stop()
      return undefined;
    }
    if (fault?.kind === "status") {
      const retryAfter = fault.retryAfter === undefined ? "" : `Retry-After: ${fault.retryAfter}\r\n`;
      const body = JSON.stringify({ errors: [{ code: fault.status === 429 ? "TOOMANYREQUESTS" : "UNAVAILABLE", message: "injected by the test" }] });
      // Closing keeps a request body the client may still send from being read as the next request.
      client.end(`HTTP/1.1 ${fault.status} Injected\r\n${retryAfter}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return undefined;
    }
    const forwarded = fault?.kind === "range-as-200" ? headers.filter((l) => !/^range:/i.test(l)) : headers;
    const up = connect(target.port, "127.0.0.1");
    track(up);
    const statusAt = fault?.kind === "enforce-content-range" && method === "GET" && latest !== undefined ? new URL(latest, "http://x").pathname + new URL(latest, "http://x").search : undefined;
    up.write(`${statusAt ? requestLine.replace(path, statusAt) : requestLine}\r\n${[...forwarded, "Connection: close"].join("\r\n")}${HEAD_END}`);
    let left = fault?.kind === "cut" ? fault.afterBytes : Infinity;
    let responseHead: Buffer | undefined = Buffer.alloc(0);
    const relay = (bytes: Buffer): void => {
      if (left <= 0 || client.destroyed) return;
      const part = bytes.subarray(0, left);
      left -= part.length;
      client.write(part);
      if (left <= 0) {
        up.destroy();
        client.destroy();
      }
    };
    up.on("data", (chunk: Buffer) => {
      if (responseHead === undefined) {
        relay(chunk);
        return;
      }
      responseHead = Buffer.concat([responseHead, chunk]);
      const end = responseHead.indexOf(HEAD_END);
      if (end < 0) return;
      const lines = responseHead.subarray(0, end).toString("latin1").split("\r\n").filter((l) => !/^connection:/i.test(l));
      const stored = method === "PATCH" && upload !== undefined ? /^range:\s*0-(\d+)/i.exec(lines.find((l) => /^range:/i.test(l)) ?? "") : null;
      if (stored && /^HTTP\/1\.1 202/.test(lines[0] ?? "")) uploadSizes.set(upload!, Number(stored[1]) + 1);
      const location = lines.find((l) => /^location:/i.test(l))?.slice("location:".length).trim();
      const uploadOf = location === undefined ? undefined : /\/blobs\/uploads\/([^/?]+)/.exec(location)?.[1];
      if (uploadOf !== undefined && /^HTTP\/1\.1 202/.test(lines[0] ?? "")) uploadLocations.set(uploadOf, location!);
      if (fault?.kind === "add-header") lines.push(fault.header);
      const body = responseHead.subarray(end + HEAD_END.length);
      responseHead = undefined;
      relay(Buffer.concat([Buffer.from(`${lines.join("\r\n")}${HEAD_END}`, "latin1"), body]));
    });
    up.on("end", () => done());
    // One listener per proxied request on a kept-alive client connection: taken off once its upstream closes.
    const closeUpstream = (): void => {
      up.destroy();
    };
    up.on("close", () => {
      client.off("close", closeUpstream);
      if (responseHead !== undefined) client.destroy(); // no answer at all
    });
    client.on("close", closeUpstream);
    return up;
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    port,
    add: (rule) => rules.push(rule),
    seen,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** How much of the client's following bytes belong to the current request's body. */
interface BodyFraming {
  /** How many leading bytes of `bytes` are (the rest of) the body; fewer than its length = the body is complete. */
  take(bytes: Buffer): number;
}

function bodyFraming(head: string): BodyFraming {
  const lines = head.split("\r\n").slice(1);
  const value = (name: string): string | undefined =>
    lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
  if (/chunked/i.test(value("transfer-encoding") ?? "")) return chunkedBody();
  let left = Number(value("content-length") ?? 0) || 0;
  return {
    take: (bytes) => {
      const n = Math.min(left, bytes.length);
      left -= n;
      return n;
    },
  };
}

/** Follows chunked framing (size line, data, CRLF; a 0 size then trailers up to an empty line). */
function chunkedBody(): BodyFraming {
  let state: "size" | "data" | "data-crlf" | "trailer" | "done" = "size";
  let line = "";
  let dataLeft = 0;
  return {
    take: (bytes) => {
      let i = 0;
      while (i < bytes.length && state !== "done") {
        if (state === "data") {
          const n = Math.min(dataLeft, bytes.length - i);
          i += n;
          dataLeft -= n;
          if (dataLeft === 0) state = "data-crlf";
          continue;
        }
        const ch = String.fromCharCode(bytes[i++]!);
        line += ch;
        if (!line.endsWith("\r\n")) continue;
        const text = line.slice(0, -2);
        line = "";
        if (state === "data-crlf") state = "size";
        else if (state === "size") {
          dataLeft = parseInt(text.split(";")[0]!, 16);
          state = dataLeft > 0 ? "data" : "trailer";
        } else if (text === "") state = "done";
      }
      return i;
    },
  };
}
