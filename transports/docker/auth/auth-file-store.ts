// Writes auth files as podman does: `auths[KEY].auth` = base64("user:pass"), every other entry and
// key kept, file mode 0600 in directories made 0700, replaced atomically (temp file + rename). Each
// change is read, made and written under the file's lock (AUTHFILE.lock), so concurrent logins all land.
// A host the file's credHelpers send to a helper is stored in and erased from that helper instead.
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../../../src/atomic-fs.js";
import { AuthError, describeFsError } from "../../../src/errors.js";
import { withFileLock } from "../../../src/file-lock.js";
import { normalizeAuthKey, readAuthFile, type AuthFileContent } from "./auth-file.js";
import { helperErase, helperStore } from "./credential-helper.js";
import { helperFor, helperServer } from "./credentials.js";

export interface AuthFileWriteOptions {
  /** Give up waiting for another writer after this long (ms). */
  timeoutMs?: number | undefined;
  warn?: ((message: string) => void) | undefined;
  /** Where credential helpers are looked up (PATH). */
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
}

const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/**
 * Stores user:pass for KEY (host or host/namespace) in the auth file at `path`, or, when its
 * credHelpers name a helper for the host, in that helper (podman's way; a namespaced KEY is refused
 * there, as an `auths` entry beside the helper would not be used). Returns where they went.
 */
export async function storeCredentials(path: string, key: string, username: string, password: string, opts: AuthFileWriteOptions = {}): Promise<string> {
  let where = path;
  await modifyAuthFile(path, opts, async (content) => {
    const host = hostOf(key);
    const helper = content === undefined ? undefined : helperFor(content, host);
    if (helper !== undefined) {
      if (key !== host) {
        throw new AuthError(`cannot log in to ${key}: ${path} sends ${host} to credential helper docker-credential-${helper} (credHelpers), which keeps no namespaces; log in to ${host}`);
      }
      await helperStore(helper, helperServer(host), username, password, opts.env ?? process.env, opts.signal);
      where = `credential helper docker-credential-${helper}`;
      return undefined;
    }
    if (typeof content?.credsStore === "string" && content.credsStore !== "") {
      opts.warn?.(`${path} names credsStore ${content.credsStore}: the login for ${key} goes to its auths, which imgcopy and podman read before credsStore (docker reads only the store)`);
    }
    const auths = { ...(content?.auths ?? {}) };
    auths[key] = { auth: Buffer.from(`${username}:${password}`).toString("base64") };
    return { ...content, auths };
  });
  return where;
}

/**
 * Removes KEY's entry (and legacy URL-style keys that mean the same, "https://KEY/v1/"), and erases the
 * host from the helper credHelpers name for it; false when neither had any.
 */
export async function removeCredentials(path: string, key: string, opts: AuthFileWriteOptions = {}): Promise<boolean> {
  let removed = false;
  await modifyAuthFile(path, opts, async (content) => {
    const host = hostOf(key);
    const helper = content === undefined || key !== host ? undefined : helperFor(content, host);
    if (helper !== undefined) removed = await helperErase(helper, helperServer(host), opts.env ?? process.env, opts.signal);
    const matching = Object.keys(content?.auths ?? {}).filter((k) => k === key || normalizeAuthKey(k) === key);
    if (content === undefined || matching.length === 0) return undefined;
    const auths = { ...content.auths };
    for (const k of matching) delete auths[k];
    removed = true;
    return { ...content, auths };
  });
  return removed;
}

/**
 * logout --all, as podman: erases every credHelpers host from its helper, then empties `auths` and the
 * credHelpers map. A helper that is absent or fails keeps its entry (with a warning): what it holds
 * stays reachable. credsStore and other keys stay.
 */
export async function removeAllCredentials(path: string, opts: AuthFileWriteOptions = {}): Promise<void> {
  await modifyAuthFile(path, opts, async (content) => {
    if (content === undefined) return undefined;
    const kept: Record<string, string> = {};
    for (const [registry, helper] of Object.entries(content.credHelpers ?? {})) {
      if (typeof helper !== "string") continue;
      try {
        await helperErase(helper, registry, opts.env ?? process.env, opts.signal);
      } catch (err) {
        // One broken or absent helper does not keep the other logins from being removed.
        opts.warn?.(`${(err as Error).message}; what it holds for ${registry} stays there`);
        kept[registry] = helper;
      }
    }
    const { credHelpers: _cleared, ...rest } = content;
    return { ...rest, auths: {}, ...(Object.keys(kept).length > 0 ? { credHelpers: kept } : {}) };
  });
}

/** Reads the file under its lock, and writes what `change` makes of it (nothing when it gives undefined). */
async function modifyAuthFile(
  path: string,
  opts: AuthFileWriteOptions,
  change: (content: AuthFileContent | undefined) => Promise<AuthFileContent | undefined>,
): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw describeFsError(err, dirname(path));
  }
  await withFileLock(`${path}.lock`, { timeoutMs: opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, what: `auth file ${path}`, warn: opts.warn }, async () => {
    const changed = await change(await readAuthFile({ path, legacy: false }));
    // podman indents with a tab.
    if (changed !== undefined) await writeFileAtomic(path, `${JSON.stringify(changed, null, "\t")}\n`, 0o600);
  });
}

function hostOf(key: string): string {
  const slash = key.indexOf("/");
  return slash < 0 ? key : key.slice(0, slash);
}
