// The container-copy transport (and the same reader under skopeo's name, containers-storage):
// a container or image in a podman/buildah containers/storage store, read as an image. Read-only.
import type { ImageTransport, ListedItem, SystemContext, UserNamespaceRequest } from "../../src/types.js";
import { listStore } from "./list.js";
import { parseStoreSpec, StorageReference } from "./reference.js";
import { storeUserNamespace } from "./store/user-namespace.js";

function storageTransport(name: string): ImageTransport {
  const transport: ImageTransport = {
    name,
    parseReference: (rest: string) => StorageReference.parse(transport, rest),
    list: (location: string, ctx: SystemContext): Promise<ListedItem[]> => listStore(name, location, ctx),
    // list checks the text after the bracket itself; here only the store matters.
    listUserNamespace: (location: string, ctx: SystemContext): Promise<UserNamespaceRequest | undefined> =>
      storeUserNamespace(name, parseStoreSpec(location, name).spec, ctx),
  };
  return transport;
}

export const containerCopyTransport: ImageTransport = storageTransport("container-copy");
export const containersStorageTransport: ImageTransport = storageTransport("containers-storage");

/** Both transports; the host picks the one a plugin.json entry names. */
export default [containerCopyTransport, containersStorageTransport];
