// Writes auth files as podman does: `auths[KEY].auth` = base64("user:pass"), every other entry and
// key kept, file mode 0600 in directories made 0700, replaced atomically (temp file + rename).
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../../../src/atomic-fs.js";
import { describeFsError } from "../../../src/errors.js";
import { normalizeAuthKey, readAuthFile, type AuthFileContent } from "./auth-file.js";

/** Stores user:pass for KEY (host or host/namespace) in the auth file at `path`. */
export async function storeCredentials(path: string, key: string, username: string, password: string): Promise<void> {
  const content = (await readAuthFile({ path, legacy: false })) ?? {};
  const auths = { ...(content.auths ?? {}) };
  auths[key] = { auth: Buffer.from(`${username}:${password}`).toString("base64") };
  await writeAuthFile(path, { ...content, auths });
}

/** Removes KEY's entry (and legacy URL-style keys that mean the same, "https://KEY/v1/"); false when the file has none. */
export async function removeCredentials(path: string, key: string): Promise<boolean> {
  const content = await readAuthFile({ path, legacy: false });
  const matching = Object.keys(content?.auths ?? {}).filter((k) => k === key || normalizeAuthKey(k) === key);
  if (content === undefined || matching.length === 0) return false;
  const auths = { ...content.auths };
  for (const k of matching) delete auths[k];
  await writeAuthFile(path, { ...content, auths });
  return true;
}

/** Empties `auths` (logout --all); other keys (credHelpers, credsStore, a docker config's settings) stay. */
export async function removeAllCredentials(path: string): Promise<void> {
  const content = await readAuthFile({ path, legacy: false });
  if (content === undefined) return;
  await writeAuthFile(path, { ...content, auths: {} });
}

async function writeAuthFile(path: string, content: AuthFileContent): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw describeFsError(err, dirname(path));
  }
  // podman indents with a tab.
  await writeFileAtomic(path, `${JSON.stringify(content, null, "\t")}\n`, 0o600);
}
