// Docker credential helpers: `docker-credential-NAME get` with the server on stdin answers
// {"ServerURL", "Username", "Secret"} on stdout, or says "credentials not found" and exits 1;
// `store` takes that JSON on stdin, `erase` the server (login/logout through a credHelpers entry).
import { spawn } from "node:child_process";
import { AuthError } from "../../../src/errors.js";

export interface HelperCredentials {
  username: string;
  /** A password, or an identity token when the helper's Username is "<token>". */
  secret: string;
  identityToken: boolean;
}

// A helper that waits for a keyring prompt nobody answers must not hang a copy for ever.
const HELPER_TIMEOUT_MS = 60_000;

/** Asks `docker-credential-NAME` for SERVER's credentials; undefined when it has none. */
export async function helperGet(name: string, server: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<HelperCredentials | undefined> {
  const program = `docker-credential-${name}`;
  const { code, stdout, stderr } = await runHelper(program, ["get"], server, env, signal);
  const said = (stdout.trim() || stderr.trim()).split("\n")[0] ?? "";
  if (code !== 0) {
    if (/credentials not found/i.test(said)) return undefined;
    throw new AuthError(`credential helper ${program} failed for ${server}: ${said || `exit code ${code}`}`);
  }
  let reply: { Username?: unknown; Secret?: unknown };
  try {
    reply = JSON.parse(stdout) as typeof reply;
  } catch {
    throw new AuthError(`credential helper ${program} answered for ${server} with something that is not JSON: ${said.slice(0, 80)}`);
  }
  if (typeof reply.Secret !== "string" || reply.Secret === "") return undefined;
  const username = typeof reply.Username === "string" ? reply.Username : "";
  return { username, secret: reply.Secret, identityToken: username === "<token>" };
}

/** Stores USER:SECRET for SERVER with `docker-credential-NAME store`. */
export async function helperStore(name: string, server: string, username: string, secret: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  const program = `docker-credential-${name}`;
  const input = JSON.stringify({ ServerURL: server, Username: username, Secret: secret });
  const { code, stdout, stderr } = await runHelper(program, ["store"], input, env, signal);
  if (code !== 0) throw new AuthError(`credential helper ${program} could not store the credentials for ${server}: ${firstLine(stdout, stderr) || `exit code ${code}`}`);
}

/** Erases SERVER's credentials with `docker-credential-NAME erase`; false when the helper had none. */
export async function helperErase(name: string, server: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<boolean> {
  const program = `docker-credential-${name}`;
  const { code, stdout, stderr } = await runHelper(program, ["erase"], server, env, signal);
  if (code === 0) return true;
  const said = firstLine(stdout, stderr);
  if (/credentials not found/i.test(said)) return false;
  throw new AuthError(`credential helper ${program} could not erase the credentials for ${server}: ${said || `exit code ${code}`}`);
}

function firstLine(stdout: string, stderr: string): string {
  return (stdout.trim() || stderr.trim()).split("\n")[0] ?? "";
}

function runHelper(
  program: string,
  args: string[],
  input: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // env.PATH is where Node looks the program up.
    const child = spawn(program, args, { env, stdio: ["pipe", "pipe", "pipe"], timeout: HELPER_TIMEOUT_MS, signal });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") reject(new AuthError(`credential helper ${program} is not on PATH`, { cause: err }));
      else reject(new AuthError(`credential helper ${program}: ${err.message}`, { cause: err }));
    });
    child.on("close", (code, sig) => {
      if (sig) reject(new AuthError(`credential helper ${program} was stopped by ${sig}${sig === "SIGTERM" ? " (timed out?)" : ""}`));
      else resolve({ code, stdout, stderr });
    });
    // A helper that exits without reading stdin makes the write fail with EPIPE: its answer still counts.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}
