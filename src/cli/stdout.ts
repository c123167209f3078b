// Results go to stdout, and only results. A closed pipe (`imgcopy inspect x | head -1`) is not an error.

let guarded = false;

/** Makes a reader that went away (EPIPE) stop writes quietly instead of crashing the process; other errors still throw. */
export function guardStdout(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  });
}

/** Writes `data` to stdout and waits until it is handed to the OS. */
export function writeStdout(data: string | Uint8Array): Promise<void> {
  guardStdout();
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (err) => {
      if (err && (err as NodeJS.ErrnoException).code !== "EPIPE") reject(err);
      else resolve();
    });
  });
}

/** JSON indented by two spaces, as skopeo prints it. */
export function writeJson(value: unknown): Promise<void> {
  return writeStdout(`${JSON.stringify(value, null, 2)}\n`);
}
