// A token server for tests (the registry's `auth.token.realm`): checks basic credentials or OAuth2
// refresh tokens and mints ES256 JWTs with an x5c header that docker-registry trusts through its
// rootcertbundle. Records every request so that tests can check what the client asked for.
import { randomBytes, sign } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { run, tempDir } from "./tools.js";

export interface TokenRequestRecord {
  method: string;
  /** The user the request proved to be, undefined = anonymous. */
  user: string | undefined;
  scopes: string[];
  account: string | null;
  service: string | null;
  grantType: string | null;
  clientId: string | null;
}

export interface TokenRealmOptions {
  service: string;
  issuer: string;
  /** user -> password for basic credentials. */
  users: Record<string, string>;
  /** refresh token -> user, for grant_type=refresh_token. */
  refreshTokens?: Record<string, string>;
  /** Which actions of one requested scope to grant; default: users get what they ask, anonymous gets pull. */
  grant?: (user: string | undefined, repository: string, actions: string[]) => string[];
  expiresIn?: number;
}

export interface TokenRealm {
  /** http://127.0.0.1:PORT/token */
  realm: string;
  /** The signing certificate, for the registry's rootcertbundle. */
  rootCertBundle: string;
  requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

export async function startTokenRealm(opts: TokenRealmOptions): Promise<TokenRealm> {
  const dir = await tempDir("imgcopy-token-");
  const keyFile = join(dir.path, "signer.key");
  const certFile = join(dir.path, "signer.crt");
  await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile, "-out", certFile,
    "-days", "1", "-subj", "/CN=imgcopy test token signer"]);
  const key = await readFile(keyFile, "utf8");
  const certDer = pemToDer(await readFile(certFile, "utf8"));
  const requests: TokenRequestRecord[] = [];
  const grant = opts.grant ?? ((user, _repo, actions) => (user === undefined ? actions.filter((a) => a === "pull") : actions));

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    let params = url.searchParams;
    if (req.method === "POST") params = new URLSearchParams(await bodyOf(req));
    const record: TokenRequestRecord = {
      method: req.method ?? "",
      user: undefined,
      scopes: params.getAll("scope"),
      account: params.get("account"),
      service: params.get("service"),
      grantType: params.get("grant_type"),
      clientId: params.get("client_id"),
    };
    requests.push(record);
    if (req.method === "POST") {
      const user = params.get("grant_type") === "refresh_token" ? opts.refreshTokens?.[params.get("refresh_token") ?? ""] : undefined;
      if (user === undefined) return reply(res, 401, { error: "invalid_grant", error_description: "unknown refresh token" });
      record.user = user;
    } else if (req.headers.authorization) {
      const [scheme, b64] = req.headers.authorization.split(" ");
      const [user, ...rest] = Buffer.from(b64 ?? "", "base64").toString().split(":");
      if (scheme?.toLowerCase() !== "basic" || user === undefined || opts.users[user] !== rest.join(":")) {
        return reply(res, 401, { details: "invalid username or password" });
      }
      record.user = user;
    }
    const access = record.scopes.flatMap((scope) => {
      const first = scope.indexOf(":");
      const last = scope.lastIndexOf(":");
      if (first < 0 || last <= first || scope.slice(0, first) !== "repository") return [];
      const name = scope.slice(first + 1, last);
      const actions = grant(record.user, name, scope.slice(last + 1).split(","));
      return actions.length > 0 ? [{ type: "repository", name, actions }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = opts.expiresIn ?? 300;
    const token = jwt(
      { typ: "JWT", alg: "ES256", x5c: [certDer.toString("base64")] },
      { iss: opts.issuer, sub: record.user ?? "", aud: opts.service, exp: now + expiresIn, nbf: now - 10, iat: now, jti: randomBytes(8).toString("hex"), access },
      key,
    );
    const body = req.method === "POST" ? { access_token: token, expires_in: expiresIn } : { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() };
    reply(res, 200, body);
  };

  const server: Server = createServer((req, res) => {
    answer(req, res).catch((err: Error) => reply(res, 500, { details: err.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    rootCertBundle: certFile,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dir.cleanup();
    },
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += (chunk as Buffer).toString();
  return text;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

/** header.payload.signature, ES256 with the signature in IEEE-P1363 (r||s) form as JWS wants. */
function jwt(header: object, payload: object, keyPem: string): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = sign("sha256", Buffer.from(input), { key: keyPem, dsaEncoding: "ieee-p1363" });
  return `${input}.${b64url(signature)}`;
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, ""), "base64");
}
