// Runs the real Debian docker-registry (distribution 2.8) on 127.0.0.1 for a test: its own config,
// free port and storage dir; plain, TLS, htpasswd, token auth, pull-through mirror or read-only.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { requireTool, tempDir } from "./tools.js";

export interface RegistryServerOptions {
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string; /** Require client certificates signed by these CAs (PEM files). */ clientCaFiles?: string[] };
  /** Basic auth from this bcrypt htpasswd file. */
  htpasswdFile?: string;
  /** Token auth: the realm serving JWTs signed by the key whose certificate is `rootCertBundle`. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** A pull-through cache of this registry URL (http://127.0.0.1:PORT). */
  proxyRemoteUrl?: string;
  /** Accept manifests whose non-distributable layers point at URLs matching these regexps (validation.manifests.urls.allow). */
  allowLayerUrls?: string[];
  /** Refuse writes (storage.maintenance.readonly). */
  readonly?: boolean;
  /** Serve this storage directory instead of a new one (e.g. a read-only view of another instance's data). */
  storageDir?: string;
}

export interface RegistryServer {
  /** "127.0.0.1:PORT", for docker://127.0.0.1:PORT/REPO references. */
  host: string;
  port: number;
  storageDir: string;
  /** What the server wrote on stderr so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 at the time of asking. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startRegistry(opts: RegistryServerOptions = {}): Promise<RegistryServer> {
  requireTool("docker-registry");
  const dir = await tempDir("imgcopy-registry-");
  const storageDir = opts.storageDir ?? join(dir.path, "data");
  await mkdir(storageDir, { recursive: true });
  const port = await freePort();
  const storage: Record<string, unknown> = { filesystem: { rootdirectory: storageDir }, delete: { enabled: true } };
  if (opts.readonly) storage.maintenance = { readonly: { enabled: true }, uploadpurging: { enabled: false } };
  const http: Record<string, unknown> = { addr: `127.0.0.1:${port}`, secret: "imgcopy-test-secret" };
  if (opts.tls) {
    http.tls = { certificate: opts.tls.certFile, key: opts.tls.keyFile, ...(opts.tls.clientCaFiles ? { clientcas: opts.tls.clientCaFiles } : {}) };
  }
  const config: Record<string, unknown> = { version: 0.1, log: { level: "error", accesslog: { disabled: true } }, storage, http };
  if (opts.htpasswdFile) config.auth = { htpasswd: { realm: "basic-realm", path: opts.htpasswdFile } };
  if (opts.token) {
    config.auth = {
      token: { realm: opts.token.realm, service: opts.token.service, issuer: opts.token.issuer, rootcertbundle: opts.token.rootCertBundle },
    };
  }
  if (opts.proxyRemoteUrl) config.proxy = { remoteurl: opts.proxyRemoteUrl };
  if (opts.allowLayerUrls) config.validation = { manifests: { urls: { allow: opts.allowLayerUrls } } };
  // YAML is a superset of JSON: the registry reads this as its config.yml.
  const configPath = join(dir.path, "config.yml");
  await writeFile(configPath, JSON.stringify(config, null, 2));

  const child = spawn("docker-registry", ["serve", configPath], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, OTEL_TRACES_EXPORTER: "none" } });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await dir.cleanup();
  };
  try {
    await waitListening(child, port, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: `127.0.0.1:${port}`, port, storageDir, log: () => stderr, stop };
}

/** Polls until the port accepts connections; fails with the registry's stderr when it exits or takes > 20 s. */
async function waitListening(child: ChildProcess, port: number, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}) before listening on 127.0.0.1:${port}: ${log().trim()}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`docker-registry did not listen on 127.0.0.1:${port} within 20 s: ${log().trim()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
