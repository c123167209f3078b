// An exclusive lock on a layout's index.json: the shared file lock (fcntl via os-lock, or an O_EXCL lock file).
export { withFileLock as withLayoutLock, type FileLockOptions as LockOptions } from "../../src/file-lock.js";
