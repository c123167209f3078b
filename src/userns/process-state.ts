// Whether this process runs as an unprivileged user outside its user namespace, inside it, or as
// root, told by the same environment markers podman, buildah and containers/storage set.
import { homedir } from "node:os";

/** "done" inside a namespace entered by buildah/podman/imgcopy ("1" while buildah is setting it up). */
export const USERNS_CONFIGURED = "_CONTAINERS_USERNS_CONFIGURED";
/** The user's host uid and gid, kept for the process inside (where getuid() is 0). */
export const ROOTLESS_UID = "_CONTAINERS_ROOTLESS_UID";
export const ROOTLESS_GID = "_CONTAINERS_ROOTLESS_GID";

function processUid(): number {
  return process.getuid?.() ?? 0;
}

/** True inside a user namespace entered the podman way (the marker says so). */
export function insideUserNamespace(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[USERNS_CONFIGURED] === "done";
}

/** True when this process is an unprivileged user outside its namespace: it must re-exec itself to read a rootless store. */
export function userNamespaceNeeded(env: NodeJS.ProcessEnv = process.env, uid: number = processUid()): boolean {
  return uid !== 0 && !insideUserNamespace(env);
}

/** containers/storage's IsRootless: not root, or root only inside a user's namespace. */
export function isRootlessProcess(env: NodeJS.ProcessEnv = process.env, uid: number = processUid()): boolean {
  return uid !== 0 || (env[USERNS_CONFIGURED] ?? "") !== "";
}

/** The user's host uid: the marker's inside a namespace, else getuid(). */
export function rootlessUid(env: NodeJS.ProcessEnv = process.env, uid: number = processUid()): number {
  const kept = env[ROOTLESS_UID];
  if (isRootlessProcess(env, uid) && uid === 0 && kept !== undefined && /^\d+$/.test(kept)) return Number(kept);
  return uid;
}

/** The environment of the process inside: HOME resolved here (inside, uid 0 would look up root's home) and the markers. */
export function namespaceChildEnv(env: NodeJS.ProcessEnv, uid: number, gid: number): NodeJS.ProcessEnv {
  return {
    ...env,
    HOME: env.HOME || homedir(),
    [USERNS_CONFIGURED]: "done",
    [ROOTLESS_UID]: String(uid),
    [ROOTLESS_GID]: String(gid),
  };
}
