// References of the container-copy (and containers-storage) transport:
// `[DRIVER@GRAPHROOT+RUNROOT:OPTIONS]NAME-OR-ID`, every part of the bracket optional.
import { BadReferenceError, UnsupportedError } from "../../src/errors.js";
import type { ImageDestination, ImageReference, ImageSource, ImageTransport, SystemContext, UserNamespaceRequest } from "../../src/types.js";
import { openStorageImageSource } from "./source.js";
import type { StoreSpec } from "./store/store-location.js";
import { storeUserNamespace } from "./store/user-namespace.js";

/** Splits an optional leading `[...]` store specifier off `text`. */
export function parseStoreSpec(text: string, transportName: string): { spec: StoreSpec; rest: string } {
  if (!text.startsWith("[")) return { spec: {}, rest: text };
  const bad = (why: string): BadReferenceError =>
    new BadReferenceError(`invalid ${transportName} reference ${JSON.stringify(text)}: ${why}; expected [DRIVER@GRAPHROOT+RUNROOT:OPTIONS]NAME-OR-ID`);
  const close = text.indexOf("]");
  if (close < 0) throw bad(`"[" has no closing "]"`);
  let inner = text.slice(1, close);
  if (inner === "") throw bad("the store specifier [] is empty");
  const spec: StoreSpec = {};
  const at = inner.indexOf("@");
  if (at >= 0) {
    const driver = inner.slice(0, at);
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(driver)) throw bad(`storage driver ${JSON.stringify(driver)} is not a driver name`);
    spec.driver = driver;
    inner = inner.slice(at + 1);
  }
  const colon = inner.indexOf(":");
  if (colon >= 0) {
    const options = inner.slice(colon + 1).split(",").filter((o) => o !== "");
    if (options.length > 0) spec.options = options;
    inner = inner.slice(0, colon);
  }
  const plus = inner.indexOf("+");
  const graphRoot = plus >= 0 ? inner.slice(0, plus) : inner;
  const runRoot = plus >= 0 ? inner.slice(plus + 1) : "";
  if (graphRoot !== "") {
    if (!graphRoot.startsWith("/")) throw bad(`graph root ${JSON.stringify(graphRoot)} is not an absolute path`);
    spec.graphRoot = graphRoot;
  }
  if (runRoot !== "") {
    if (!runRoot.startsWith("/")) throw bad(`run root ${JSON.stringify(runRoot)} is not an absolute path`);
    spec.runRoot = runRoot;
  }
  return { spec, rest: text.slice(close + 1) };
}

/** The `[...]` text of a store specifier; "" when it names nothing. */
export function formatStoreSpec(spec: StoreSpec): string {
  const hasPaths = spec.graphRoot !== undefined || spec.runRoot !== undefined;
  if (!spec.driver && !hasPaths && !spec.options?.length) return "";
  let inner = spec.driver ? `${spec.driver}@` : "";
  inner += spec.graphRoot ?? "";
  if (spec.runRoot !== undefined) inner += `+${spec.runRoot}`;
  if (spec.options?.length) inner += `:${spec.options.join(",")}`;
  return `[${inner}]`;
}

/** Checks the part after the bracket: a container or image name, id, id prefix or NAME@DIGEST. */
function checkNameOrId(nameOrId: string, text: string, transportName: string): void {
  if (nameOrId === "") {
    throw new BadReferenceError(
      `invalid ${transportName} reference ${JSON.stringify(text)}: no container or image named; expected [DRIVER@GRAPHROOT+RUNROOT]NAME-OR-ID`,
    );
  }
  if (/[\s[\]]/.test(nameOrId)) {
    throw new BadReferenceError(`invalid ${transportName} reference ${JSON.stringify(text)}: ${JSON.stringify(nameOrId)} is not a name or id`);
  }
}

export class StorageReference implements ImageReference {
  constructor(
    readonly transport: ImageTransport,
    readonly store: StoreSpec,
    readonly nameOrId: string,
  ) {}

  static parse(transport: ImageTransport, text: string): StorageReference {
    const { spec, rest } = parseStoreSpec(text, transport.name);
    checkNameOrId(rest, text, transport.name);
    return new StorageReference(transport, spec, rest);
  }

  toString(): string {
    return `${this.transport.name}:${formatStoreSpec(this.store)}${this.nameOrId}`;
  }

  newImageSource(ctx: SystemContext): Promise<ImageSource> {
    return openStorageImageSource(this, ctx);
  }

  /** A rootless store is read inside the user's namespace (the CLI re-runs itself there). */
  userNamespace(ctx: SystemContext): Promise<UserNamespaceRequest | undefined> {
    return storeUserNamespace(this.transport.name, this.store, ctx);
  }

  newImageDestination(_ctx: SystemContext): Promise<ImageDestination> {
    return Promise.reject(new UnsupportedError(`${this.transport.name}: is read-only; writing into a store is not supported`));
  }
}
