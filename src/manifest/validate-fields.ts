// Field checks for manifest JSON: each failure is a CorruptInputError naming the document and the field path.
import { isDigest } from "../digest.js";
import { CorruptInputError } from "../errors.js";
import type { Descriptor, Platform } from "./manifest-types.js";

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Builds errors of the form "<what>: <path> <problem>". */
export class FieldChecker {
  constructor(readonly what: string) {}

  fail(path: string, problem: string): never {
    throw new CorruptInputError(`${this.what}: ${path} ${problem}`);
  }

  object(value: unknown, path: string): JsonObject {
    if (!isObject(value)) this.fail(path, value === undefined ? "is missing" : "is not a JSON object");
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string") this.fail(path, value === undefined ? "is missing" : "is not a string");
    return value;
  }

  optionalString(value: unknown, path: string): void {
    if (value !== undefined) this.string(value, path);
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, value === undefined ? "is missing" : "is not an array");
    return value;
  }

  stringArray(value: unknown, path: string): string[] {
    const items = this.array(value, path);
    items.forEach((item, i) => this.string(item, `${path}[${i}]`));
    return items as string[];
  }

  digest(value: unknown, path: string): string {
    const text = this.string(value, path);
    if (!isDigest(text)) this.fail(path, `is not a digest (sha256:<64 hex digits>): ${JSON.stringify(text)}`);
    return text;
  }

  size(value: unknown, path: string): number {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      this.fail(path, value === undefined ? "is missing" : `is not a size (a non-negative integer): ${JSON.stringify(value)}`);
    }
    return value;
  }

  annotations(value: unknown, path: string): void {
    if (value === undefined || value === null) return;
    const obj = this.object(value, path);
    for (const [key, v] of Object.entries(obj)) this.string(v, `${path}[${JSON.stringify(key)}]`);
  }

  platform(value: unknown, path: string): Platform {
    const p = this.object(value, path);
    this.string(p.architecture, `${path}.architecture`);
    this.string(p.os, `${path}.os`);
    this.optionalString(p["os.version"], `${path}["os.version"]`);
    this.optionalString(p.variant, `${path}.variant`);
    if (p["os.features"] !== undefined) this.stringArray(p["os.features"], `${path}["os.features"]`);
    if (p.features !== undefined) this.stringArray(p.features, `${path}.features`);
    return p as unknown as Platform;
  }

  /** A content descriptor: mediaType, digest and size required; urls, annotations, platform checked when present. */
  descriptor(value: unknown, path: string): Descriptor {
    const d = this.object(value, path);
    this.string(d.mediaType, `${path}.mediaType`);
    this.digest(d.digest, `${path}.digest`);
    this.size(d.size, `${path}.size`);
    if (d.urls !== undefined && d.urls !== null) this.stringArray(d.urls, `${path}.urls`);
    this.annotations(d.annotations, `${path}.annotations`);
    if (d.platform !== undefined && d.platform !== null) this.platform(d.platform, `${path}.platform`);
    this.optionalString(d.artifactType, `${path}.artifactType`);
    return d as unknown as Descriptor;
  }
}
