// The compiled host finds its bundled plugin manifests next to its own files (dist/), as the
// source tree does under tsx; module paths inside them are relative, so they work in both.
import { copyFile, mkdir } from "node:fs/promises";
for (const file of ["plugin.json", "transports/plugin.json"]) {
  await mkdir(new URL(`../dist/${file}/..`, import.meta.url), { recursive: true });
  await copyFile(new URL(`../${file}`, import.meta.url), new URL(`../dist/${file}`, import.meta.url));
}
