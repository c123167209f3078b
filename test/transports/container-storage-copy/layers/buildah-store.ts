// A throwaway containers/storage store driven by the real buildah, for the layer-stream tests:
// build images and containers, read the records back, and remove every mount and file after.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ContainerRecord, ImageRecord, LayerRecord, StorageDriver, StoreLocation } from "../../../../transports/container-storage-copy/store/record-types.js";
import type { LayerStreamInput } from "../../../../transports/container-storage-copy/layers/index.js";
import { run, tempDir } from "../../../helpers/tools.js";

export class BuildahStore {
  private constructor(
    readonly driver: StorageDriver,
    readonly dir: string,
    private readonly removeDir: () => Promise<void>,
  ) {}

  static async create(driver: StorageDriver): Promise<BuildahStore> {
    const { path, cleanup } = await tempDir(`imgcopy-layers-${driver}-`);
    return new BuildahStore(driver, path, cleanup);
  }

  get graphRoot(): string {
    return join(this.dir, "g");
  }

  get runRoot(): string {
    return join(this.dir, "r");
  }

  get location(): StoreLocation {
    return { driver: this.driver, graphRoot: this.graphRoot, runRoot: this.runRoot, additionalImageStores: [], transientStore: false };
  }

  /** `[driver@graphroot+runroot]` as containers-transports(5) spells a store. */
  get storeSpec(): string {
    return `[${this.driver}@${this.graphRoot}+${this.runRoot}]`;
  }

  async buildah(...args: string[]): Promise<string> {
    const { stdout } = await run("buildah", ["--root", this.graphRoot, "--runroot", this.runRoot, "--storage-driver", this.driver, ...args]);
    return stdout.trim();
  }

  /** A working container from `image` ("scratch" too), mounted; `id` is the full container id. */
  async from(image: string): Promise<{ id: string; mount: string }> {
    const name = await this.buildah("from", "--quiet", "--pull-never", image);
    const record = (await this.containers()).find((c) => c.names?.includes(name) || c.id === name);
    if (!record) throw new Error(`buildah from ${image}: container ${name} not found in containers.json`);
    return { id: record.id, mount: await this.buildah("mount", record.id) };
  }

  /** Commits a container to `name`; returns the image id. */
  async commit(containerId: string, name: string): Promise<string> {
    return this.buildah("commit", "--quiet", containerId, name);
  }

  async layers(): Promise<LayerRecord[]> {
    return JSON.parse(await readFile(join(this.graphRoot, `${this.driver}-layers`, "layers.json"), "utf8")) as LayerRecord[];
  }

  async images(): Promise<ImageRecord[]> {
    return JSON.parse(await readFile(join(this.graphRoot, `${this.driver}-images`, "images.json"), "utf8")) as ImageRecord[];
  }

  async containers(): Promise<ContainerRecord[]> {
    return JSON.parse(await readFile(join(this.graphRoot, `${this.driver}-containers`, "containers.json"), "utf8")) as ContainerRecord[];
  }

  async imageTopLayer(imageId: string): Promise<string> {
    const image = (await this.images()).find((i) => i.id === imageId);
    if (!image?.layer) throw new Error(`image ${imageId} has no layer in ${this.graphRoot}`);
    return image.layer;
  }

  async containerLayer(containerId: string): Promise<string> {
    const c = (await this.containers()).find((r) => r.id === containerId);
    if (!c) throw new Error(`container ${containerId} not in ${this.graphRoot}`);
    return c.layer;
  }

  /** The layer and its ancestors, top first. */
  async chain(layerId: string): Promise<LayerRecord[]> {
    const all = new Map((await this.layers()).map((l) => [l.id, l]));
    const out: LayerRecord[] = [];
    for (let id: string | undefined = layerId; id !== undefined; ) {
      const l = all.get(id);
      if (!l) throw new Error(`layer ${id} not in ${this.graphRoot}`);
      out.push(l);
      id = l.parent;
    }
    return out;
  }

  async streamInput(layerId: string, extra: Partial<LayerStreamInput> = {}): Promise<LayerStreamInput> {
    const [layer, ...lowers] = await this.chain(layerId);
    return { location: this.location, layer: layer as LayerRecord, lowers, layerStoreRoot: this.graphRoot, ...extra };
  }

  /** Rewrites a layer record in layers.json (tests that tamper with the store). */
  async editLayer(id: string, edit: (l: LayerRecord) => void): Promise<void> {
    const layers = await this.layers();
    const l = layers.find((r) => r.id === id);
    if (!l) throw new Error(`layer ${id} not found`);
    edit(l);
    await writeFile(join(this.graphRoot, `${this.driver}-layers`, "layers.json"), JSON.stringify(layers));
  }

  /** Removes containers (unmounting them), then any mount left under the store, then the files. */
  async cleanup(): Promise<void> {
    await this.buildah("rm", "--all").catch(() => undefined);
    await this.buildah("rmi", "--all", "--force").catch(() => undefined);
    const mounts = (await readFile("/proc/self/mountinfo", "utf8"))
      .split("\n")
      .map((line) => line.split(" ")[4])
      .filter((m): m is string => m !== undefined && m.startsWith(this.dir))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await run("umount", [m]).catch(() => undefined);
    await this.removeDir();
  }
}
