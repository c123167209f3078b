// TLS settings for one registry endpoint: its cert dir (extra CAs, a client certificate pair) and
// whether to verify, as containers/image's certs.d rules and --tls-verify / registries.conf say.
import { X509Certificate } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { CorruptInputError, NotFoundError, describeFsError } from "../../../src/errors.js";
import type { SystemContext } from "../../../src/types.js";

export interface RegistryTls {
  /** CAs from the cert dir's *.crt files, to trust besides the system's (the client adds Node's tls.rootCertificates). */
  ca?: Buffer[];
  cert?: Buffer;
  key?: Buffer;
  verify: boolean;
  allowPlainHttp: boolean;
}

/** The system-wide cert dir roots, after the user's ~/.config/containers/certs.d. */
export const SYSTEM_CERT_ROOTS = ["/etc/containers/certs.d", "/etc/docker/certs.d"] as const;

/** Cert dir lookup (ctx.dockerCertPath, ~/.config/containers/certs.d/HOST:PORT, /etc/containers/certs.d, /etc/docker/certs.d) and verify/insecure. */
export async function registryTls(hostPort: string, ctx: SystemContext, insecureFromConf: boolean): Promise<RegistryTls> {
  // An explicit --tls-verify (either way) wins over registries.conf's insecure.
  const insecure = ctx.dockerInsecureSkipTLSVerify ?? insecureFromConf;
  const base: RegistryTls = { verify: !insecure, allowPlainHttp: insecure };
  const dir = await findCertDir(hostPort, ctx);
  if (dir === undefined) return base;
  return { ...base, ...(await readCertDir(dir)) };
}

/** The cert dirs that may apply to HOST[:PORT], in the order they are tried. */
export function certDirCandidates(hostPort: string, ctx: SystemContext): string[] {
  if (ctx.dockerCertPath !== undefined) return [ctx.dockerCertPath];
  const env = ctx.env ?? process.env;
  const home = env.HOME;
  const user = home ? [join(env.XDG_CONFIG_HOME || join(home, ".config"), "containers", "certs.d")] : [];
  return [...user, ...SYSTEM_CERT_ROOTS].map((root) => join(root, hostPort));
}

/** The first candidate that exists; a --cert-dir that does not exist is an error naming it. */
export async function findCertDir(hostPort: string, ctx: SystemContext): Promise<string | undefined> {
  for (const dir of certDirCandidates(hostPort, ctx)) {
    if (await isDirectory(dir)) return dir;
  }
  if (ctx.dockerCertPath !== undefined) throw new NotFoundError(`cert dir ${ctx.dockerCertPath}: no such directory`);
  return undefined;
}

/** *.crt = CAs; *.cert + *.key (same base name) = the client pair; one half alone is an error naming it. */
export async function readCertDir(dir: string): Promise<Pick<RegistryTls, "ca" | "cert" | "key">> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    throw describeFsError(err, `cert dir ${dir}`);
  }
  const ca: Buffer[] = [];
  let pair: { cert: Buffer; key: Buffer } | undefined;
  for (const name of names) {
    const path = join(dir, name);
    if (name.endsWith(".crt")) {
      const pem = await readPem(path);
      checkCertificates(pem, path);
      ca.push(pem);
    } else if (name.endsWith(".cert")) {
      const keyName = `${name.slice(0, -".cert".length)}.key`;
      if (!names.includes(keyName)) throw new CorruptInputError(`cert dir ${dir}: client certificate ${name} has no key ${keyName}`);
      const cert = await readPem(path);
      checkCertificates(cert, path);
      // Node takes one client pair per connection: the first by name.
      pair ??= { cert, key: await readPem(join(dir, keyName)) };
    } else if (name.endsWith(".key")) {
      const certName = `${name.slice(0, -".key".length)}.cert`;
      if (!names.includes(certName)) throw new CorruptInputError(`cert dir ${dir}: client key ${name} has no certificate ${certName}`);
    }
  }
  return { ...(ca.length > 0 ? { ca } : {}), ...(pair ?? {}) };
}

async function readPem(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw describeFsError(err, path);
  }
}

/** Every PEM block of a certificate file must parse: a broken one is named here, not in a TLS handshake later. */
function checkCertificates(pem: Buffer, path: string): void {
  const blocks = pem.toString("utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new CorruptInputError(`${path}: no PEM certificate in it`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new CorruptInputError(`${path}: not a valid certificate: ${(err as Error).message}`, { cause: err });
    }
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
