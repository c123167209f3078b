// The transport registry: an open table of transports by name. Entries may be loaded lazily
// (a plugin's module is imported only when a reference names its transport).
import { BadReferenceError, PluginError } from "./errors.js";
import type { ImageReference, ImageTransport } from "./types.js";

/** Where a transport came from, for listings and error messages. */
export interface TransportOrigin {
  plugin: string;
  version: string;
  /** The plugin.json that declared it, when it came from one. */
  manifestPath?: string;
}

export interface TransportEntry {
  readonly name: string;
  readonly description: string;
  readonly origin: TransportOrigin | undefined;
  /** True once the transport object is in memory. */
  readonly loaded: boolean;
}

interface Slot {
  name: string;
  description: string;
  origin: TransportOrigin | undefined;
  transport: ImageTransport | undefined;
  loader: (() => Promise<ImageTransport>) | undefined;
  pending: Promise<ImageTransport> | undefined;
}

const TRANSPORT_NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;

export class TransportRegistry {
  private readonly slots = new Map<string, Slot>();

  /** Registers a transport object. Registering a name twice is an error. */
  register(transport: ImageTransport, meta: { description?: string; origin?: TransportOrigin } = {}): void {
    checkTransportShape(transport, meta.origin);
    this.add({
      name: transport.name,
      description: meta.description ?? "",
      origin: meta.origin,
      transport,
      loader: undefined,
      pending: undefined,
    });
  }

  /** Declares a transport whose object `load` produces on first use. */
  declare(
    name: string,
    load: () => Promise<ImageTransport>,
    meta: { description?: string; origin?: TransportOrigin } = {},
  ): void {
    this.add({ name, description: meta.description ?? "", origin: meta.origin, transport: undefined, loader: load, pending: undefined });
  }

  private add(slot: Slot): void {
    if (!TRANSPORT_NAME_RE.test(slot.name)) {
      throw new PluginError(`transport name ${JSON.stringify(slot.name)}${from(slot.origin)} is not valid (lowercase letters, digits, ".", "_", "-")`);
    }
    const existing = this.slots.get(slot.name);
    if (existing) {
      throw new PluginError(
        `transport "${slot.name}" is declared twice: by ${describeOrigin(existing.origin)} and by ${describeOrigin(slot.origin)}`,
      );
    }
    this.slots.set(slot.name, slot);
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  /** Removes a transport (tests, and hosts that replace a built-in on purpose). */
  unregister(name: string): boolean {
    return this.slots.delete(name);
  }

  list(): TransportEntry[] {
    return [...this.slots.values()]
      .map((s) => ({ name: s.name, description: s.description, origin: s.origin, loaded: s.transport !== undefined }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The transport called `name`, importing its module if needed. */
  async lookup(name: string): Promise<ImageTransport> {
    const slot = this.slots.get(name);
    if (!slot) {
      throw new BadReferenceError(`unknown transport "${name}"; known transports: ${this.names().join(", ")}`);
    }
    if (slot.transport) return slot.transport;
    slot.pending ??= this.load(slot);
    return slot.pending;
  }

  private async load(slot: Slot): Promise<ImageTransport> {
    let transport: ImageTransport;
    try {
      transport = await slot.loader!();
    } catch (err) {
      slot.pending = undefined;
      if (err instanceof PluginError) throw err;
      const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
      throw new PluginError(`transport "${slot.name}"${from(slot.origin)} failed to load: ${why}`, { cause: err });
    }
    checkTransportShape(transport, slot.origin);
    if (transport.name !== slot.name) {
      throw new PluginError(
        `transport "${slot.name}"${from(slot.origin)}: its module exports a transport named "${transport.name}"`,
      );
    }
    slot.transport = transport;
    return transport;
  }

  names(): string[] {
    return [...this.slots.keys()].sort();
  }

  /** Parses "name:rest" (split at the first colon) into a reference. */
  async parseReference(text: string): Promise<ImageReference> {
    const colon = text.indexOf(":");
    if (colon <= 0) {
      throw new BadReferenceError(
        `invalid image reference ${JSON.stringify(text)}: expected TRANSPORT:DETAILS, e.g. oci:./out:latest (known transports: ${this.names().join(", ")})`,
      );
    }
    const transport = await this.lookup(text.slice(0, colon));
    return transport.parseReference(text.slice(colon + 1));
  }
}

function checkTransportShape(t: unknown, origin: TransportOrigin | undefined): asserts t is ImageTransport {
  const o = t as Partial<ImageTransport> | undefined;
  if (!o || typeof o !== "object" || typeof o.name !== "string" || typeof o.parseReference !== "function") {
    throw new PluginError(`${origin ? `plugin ${origin.plugin}` : "a module"} did not provide a transport (an object with name and parseReference)`);
  }
}

function from(origin: TransportOrigin | undefined): string {
  return origin ? ` (plugin ${origin.plugin}@${origin.version})` : "";
}

function describeOrigin(origin: TransportOrigin | undefined): string {
  if (!origin) return "a direct registration";
  return `plugin ${origin.plugin}@${origin.version}${origin.manifestPath ? ` (${origin.manifestPath})` : ""}`;
}

/** The process-wide registry that the CLI and the library functions use. */
export const defaultRegistry = new TransportRegistry();
