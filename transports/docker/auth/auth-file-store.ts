// Writes auth files as podman does: `auths[KEY].auth` = base64("user:pass"), every other entry and
// key kept, file mode 0600 in directories made 0700, replaced atomically (temp file + rename). Each
// change is read, made and written under the file's lock (AUTHFILE.lock), so concurrent logins all land.
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../../../src/atomic-fs.js";
import { describeFsError } from "../../../src/errors.js";
import { withFileLock } from "../../../src/file-lock.js";
import { normalizeAuthKey, readAuthFile, type AuthFileContent } from "./auth-file.js";

export interface AuthFileLockOptions {
  /** Give up waiting for another writer after this long (ms). */
  timeoutMs?: number | undefined;
  warn?: ((message: string) => void) | undefined;
}

const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/** Stores user:pass for KEY (host or host/namespace) in the auth file at `path`. */
export async function storeCredentials(path: string, key: string, username: string, password: string, lock: AuthFileLockOptions = {}): Promise<void> {
  await modifyAuthFile(path, lock, (content) => {
    const auths = { ...(content?.auths ?? {}) };
    auths[key] = { auth: Buffer.from(`${username}:${password}`).toString("base64") };
    return { ...content, auths };
  });
}

/** Removes KEY's entry (and legacy URL-style keys that mean the same, "https://KEY/v1/"); false when the file has none. */
export async function removeCredentials(path: string, key: string, lock: AuthFileLockOptions = {}): Promise<boolean> {
  let removed = false;
  await modifyAuthFile(path, lock, (content) => {
    const matching = Object.keys(content?.auths ?? {}).filter((k) => k === key || normalizeAuthKey(k) === key);
    if (content === undefined || matching.length === 0) return undefined;
    const auths = { ...content.auths };
    for (const k of matching) delete auths[k];
    removed = true;
    return { ...content, auths };
  });
  return removed;
}

/** Empties `auths` (logout --all); other keys (credHelpers, credsStore, a docker config's settings) stay. */
export async function removeAllCredentials(path: string, lock: AuthFileLockOptions = {}): Promise<void> {
  await modifyAuthFile(path, lock, (content) => (content === undefined ? undefined : { ...content, auths: {} }));
}

/** Reads the file under its lock, and writes what `change` makes of it (nothing when it returns undefined). */
async function modifyAuthFile(path: string, lock: AuthFileLockOptions, change: (content: AuthFileContent | undefined) => AuthFileContent | undefined): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw describeFsError(err, dirname(path));
  }
  await withFileLock(`${path}.lock`, { timeoutMs: lock.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, what: `auth file ${path}`, warn: lock.warn }, async () => {
    const changed = change(await readAuthFile({ path, legacy: false }));
    // podman indents with a tab.
    if (changed !== undefined) await writeFileAtomic(path, `${JSON.stringify(changed, null, "\t")}\n`, 0o600);
  });
}
