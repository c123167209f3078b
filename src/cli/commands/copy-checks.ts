// What the copy command checks around the copy itself: flags that would be silently ignored, a
// --digestfile that could not be written once the copy has committed, and errors that name a transport
// but not which reference.
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { UsageError, isImgcopyError } from "../../errors.js";
import type { ImageReference } from "../../types.js";
import type { CopyArgs } from "./copy-options.js";

// Spelled here rather than imported from src/manifest, which `imgcopy --version` must not load.
const DOCKER_TYPES = ["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

/** The sources that apply commit options (they make a new image from a container or a stored image). */
const COMMITTING_TRANSPORTS = ["container-copy", "containers-storage"];

/** The commit flags given on the command line, as spelled there. */
function givenCommitFlags(args: CopyArgs): string[] {
  const flags: [string, boolean][] = [
    ["--created-by", args.createdBy !== undefined],
    ["--author", args.author !== undefined],
    ["--message", args.message !== undefined],
    ["--omit-history", args.omitHistory],
    ["--timestamp", args.timestamp !== undefined],
    ["--annotation", (args.annotation?.length ?? 0) > 0],
    ["--change", (args.change?.length ?? 0) > 0],
    ["--include-volumes", args.includeVolumes === true],
  ];
  return flags.filter(([, given]) => given).map(([flag]) => flag);
}

/** One warning line when commit flags are given for a source that does not apply them; undefined otherwise. */
export function ignoredCommitOptionsWarning(args: CopyArgs, src: ImageReference): string | undefined {
  if (COMMITTING_TRANSPORTS.includes(src.transport.name)) return undefined;
  const flags = givenCommitFlags(args);
  if (flags.length === 0) return undefined;
  return `${flags.join(", ")} ignored: only a container-copy: or containers-storage: source applies commit options, and the source is ${src.toString()}`;
}

/** One warning line when --annotation was applied but the image written has a Docker manifest (which has no annotations). */
export function ignoredAnnotationWarning(args: CopyArgs, src: ImageReference, writtenType: string): string | undefined {
  if (!args.annotation?.length || !COMMITTING_TRANSPORTS.includes(src.transport.name)) return undefined;
  if (!DOCKER_TYPES.includes(writtenType)) return undefined;
  return "--annotation ignored: the image was written with a Docker v2s2 manifest, which has no annotations (use -f oci and an OCI destination)";
}

/** Refuses, before anything is copied, a --digestfile whose folder is missing or not writable (one usage line). */
export async function checkDigestfile(path: string): Promise<void> {
  if (path === "") throw new UsageError("--digestfile needs a file name");
  const abs = resolve(path);
  const dir = dirname(abs);
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat) throw new UsageError(`--digestfile ${path}: directory ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw new UsageError(`--digestfile ${path}: ${dir} is not a directory`);
  if ((await stat(abs).catch(() => undefined))?.isDirectory()) throw new UsageError(`--digestfile ${path}: is a directory`);
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--digestfile ${path}: directory ${dir} is not writable`);
  }
}

/**
 * A transport's error that names only the transport ("containers-storage: is read-only ...") is made
 * to name the reference ("containers-storage:x: is read-only ..."); any other error is returned as it is.
 */
export function nameReferenceIn(err: unknown, refs: readonly ImageReference[]): unknown {
  if (!isImgcopyError(err)) return err;
  for (const ref of refs) {
    const bare = `${ref.transport.name}: `;
    const full = ref.toString();
    if (err.message.startsWith(bare) && !err.message.startsWith(full)) {
      err.message = `${full}: ${err.message.slice(bare.length)}`;
      return err;
    }
  }
  return err;
}
