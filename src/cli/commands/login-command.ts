// `imgcopy login HOST` (podman login's flags): checks the credentials against the registry, then
// stores them in the auth file; `--get-login` prints the user stored for HOST.
import { UnsupportedError, UsageError } from "../../errors.js";
import { defaultRegistry } from "../../registry.js";
import type { RegistryLogins, SystemContext } from "../../types.js";
import { loadCliPlugins, systemContextFrom, type GlobalArgs } from "../global-options.js";
import { interruptible } from "../interrupt.js";
import { writeStdout } from "../stdout.js";
import { withRegistryContext } from "./registry-options.js";

export interface LoginArgs extends GlobalArgs {
  registry: string;
  username?: string;
  password?: string;
  passwordStdin: boolean;
  authfile?: string;
  tlsVerify?: boolean;
  certDir?: string;
  getLogin: boolean;
}

/** Runs `imgcopy login` with its parsed arguments. */
export async function runLogin(args: LoginArgs): Promise<void> {
  const ctx = registryContext(args, { tlsVerify: args.tlsVerify, certDir: args.certDir, authfile: args.authfile });
  const logins = await registryLogins(args);
  if (args.getLogin) {
    if (args.username !== undefined || args.password !== undefined || args.passwordStdin) {
      throw new UsageError("--get-login takes no --username, --password or --password-stdin");
    }
    const user = await interruptible((signal) => logins.storedUser(args.registry, { ...ctx, signal }));
    await writeStdout(`${user}\n`);
    return;
  }
  const credentials = await credentialsFrom(args);
  await interruptible((signal) => logins.login(args.registry, credentials, { ...ctx, signal }));
  await writeStdout("Login Succeeded!\n");
}

/** The SystemContext for one registry: global options plus --tls-verify, --cert-dir, --authfile. */
export function registryContext(args: GlobalArgs, flags: { tlsVerify?: boolean | undefined; certDir?: string | undefined; authfile?: string | undefined }): SystemContext {
  const side: { tlsVerify?: boolean; certDir?: string; authfile?: string } = {};
  if (flags.tlsVerify !== undefined) side.tlsVerify = flags.tlsVerify;
  if (flags.certDir !== undefined) side.certDir = flags.certDir;
  if (flags.authfile !== undefined) side.authfile = flags.authfile;
  return withRegistryContext(systemContextFrom(args), side, {}, "");
}

/** The registry transport's login support (docker://); plugins may bring others under that name. */
export async function registryLogins(args: GlobalArgs): Promise<RegistryLogins> {
  await loadCliPlugins(args);
  const { lookupTransport } = await import("../../plugins.js");
  const transport = await lookupTransport(defaultRegistry, "docker");
  if (transport.logins === undefined) throw new UnsupportedError('transport "docker" has no login support');
  return transport.logins;
}

async function credentialsFrom(args: LoginArgs): Promise<{ username: string; password: string }> {
  if (args.passwordStdin && args.password !== undefined) throw new UsageError("--password and --password-stdin cannot be used together");
  let username = args.username;
  let password = args.password;
  if (args.passwordStdin) {
    if (username === undefined) throw new UsageError("--password-stdin needs --username");
    password = (await readAllStdin()).replace(/\r?\n$/, "");
  }
  const tty = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const askUser = username === undefined || username === "";
  const askPassword = password === undefined;
  if (askUser && !tty) throw new UsageError("login needs --username (or a terminal to ask on)");
  if (askPassword && !tty) throw new UsageError("login needs a password: --password-stdin, --password, or a terminal to ask on");
  if (askUser || askPassword) {
    const answers = await askOnTerminal([...(askUser ? [{ question: "Username: ", echo: true }] : []), ...(askPassword ? [{ question: "Password: ", echo: false }] : [])]);
    if (askUser) username = answers.shift();
    if (askPassword) password = answers.shift();
  }
  username ??= "";
  password ??= "";
  if (username === "") throw new UsageError("login: the username is empty");
  if (password === "") throw new UsageError("login: the password is empty");
  return { username, password };
}

async function readAllStdin(): Promise<string> {
  let text = "";
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) text += chunk as string;
  return text;
}

/** Asks each question on the terminal (stderr), echoing the answer only when `echo`; one reader, so typed-ahead lines are kept. */
async function askOnTerminal(questions: Array<{ question: string; echo: boolean }>): Promise<string[]> {
  const { createInterface } = await import("node:readline");
  const { Writable } = await import("node:stream");
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  const lines = rl[Symbol.asyncIterator]();
  const answers: string[] = [];
  try {
    for (const { question, echo } of questions) {
      muted = false;
      process.stderr.write(question);
      muted = !echo;
      const next = await lines.next();
      if (next.done) throw new UsageError(`login: no answer to "${question.trim()}"`);
      answers.push(next.value as string);
      if (!echo) process.stderr.write("\n");
    }
  } finally {
    rl.close();
  }
  return answers;
}
