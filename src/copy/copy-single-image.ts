// Copying one image: layers (concurrently), DiffID checks, config, and the output manifest.
import { describeLayerMediaType } from "../compression/layer-media-types.js";
import { sha256 } from "../digest.js";
import { CorruptInputError, DigestMismatchError, UnsupportedError } from "../errors.js";
import { encodeManifest, type EncodedManifest } from "../manifest/build-manifest.js";
import { convertManifest, mapConfigMediaType } from "../manifest/convert-manifest.js";
import { configWithDiffIds, parseImageConfig, type ImageConfig } from "../manifest/image-config.js";
import type { Descriptor, ImageManifest, ManifestFormat } from "../manifest/manifest-types.js";
import { isImageConfigType } from "../manifest/media-types.js";
import { formatOfManifestType } from "../manifest/parse-manifest.js";
import type { BlobInfo, Digest, ManifestBlob } from "../types.js";
import type { CopiedLayer } from "./copy-layer.js";
import type { CannotModifyReason, CopyRun } from "./copy-run.js";
import { copyLayerOrExpected, reportMadePlaceholders } from "./expected-layer.js";
import { chooseLayerOperation, compressionAfter, outputLayerMediaType, type CompressionChoice } from "./layer-plan.js";
import { mapLimited } from "./run-limited.js";
import { readConfigBlob, writeConfigBlob } from "./small-blobs.js";

export interface SingleImage {
  blob: ManifestBlob;
  manifest: ImageManifest;
  mediaType: string;
  format: ManifestFormat;
  /** The source's instance digest when the image is part of an index/list. */
  instance: Digest | undefined;
}

type LayerInfo = BlobInfo & { mediaType: string };

/** Copies the blobs of `image` and returns the manifest to write (not yet written). */
export async function copySingleImage(
  run: CopyRun,
  image: SingleImage,
  candidates: string[],
  cannotModify: CannotModifyReason,
): Promise<EncodedManifest> {
  const { manifest: m } = image;
  const what = `manifest of ${run.srcName}${image.instance ? ` (instance ${image.instance})` : ""}`;
  const infos = await layerInfos(run, image, what);
  const placeholders = infos.some((i) => i.placeholder);
  if (placeholders && cannotModify) {
    throw new UnsupportedError(`${run.srcName}: its layer digests are only known once copied, so its manifest changes, but ${cannotModify}`);
  }
  const configWhat = `config ${m.config.digest} of ${run.srcName}`;
  const wantDiffId = isImageConfigType(m.config.mediaType);
  const readConfig = async (): Promise<{ bytes: Buffer; config: ImageConfig | undefined }> => {
    const bytes = await readConfigBlob(run, m.config, configWhat);
    const config = wantDiffId ? parseImageConfig(bytes, configWhat) : undefined;
    if (config && config.diffIds.length !== infos.length) {
      throw new CorruptInputError(`${configWhat}: rootfs.diff_ids has ${config.diffIds.length} entries but the manifest has ${infos.length} layers`);
    }
    return { bytes, config };
  };
  const limit = run.dest.hasThreadSafePutBlob() ? run.options.concurrency : 1;
  // When layers go concurrently anyway (the source serves several reads at once), the config is read
  // alongside them: the first layer bytes no longer wait for its round trip. Its failure stops them
  // and is the error reported. One at a time, the config is read first, as before.
  const configFailed = new AbortController();
  const configRead = limit > 1 ? readConfig() : Promise.resolve(await readConfig());
  configRead.catch((err: unknown) => configFailed.abort(err));
  const choice: CompressionChoice = {
    wish: run.options.userWish ?? (cannotModify ? "preserve" : run.dest.desiredLayerCompression()),
    algorithm: run.options.algorithm,
    explicitAlgorithm: run.options.explicitAlgorithm,
  };
  let outType: string;
  try {
    outType = pickOutputType(candidates, image, infos, choice, cannotModify, what);
  } catch (err) {
    await configRead; // a bad config is the first thing wrong
    throw err;
  }
  const outFormat = formatOfManifestType(outType) as ManifestFormat;

  const copying = mapLimited(
    infos,
    limit,
    (info, i, signal) =>
      copyLayerOrExpected(run, {
        info,
        what: `layer ${info.placeholder ? `${i + 1}` : info.digest} of ${run.srcName}`,
        srcFormat: image.format,
        outFormat,
        choice,
        cannotModify,
        wantDiffId,
      }, signal),
    AbortSignal.any([run.signal, configFailed.signal]),
  );
  const [layersDone, configDone] = await Promise.allSettled([copying, configRead]);
  if (configDone.status === "rejected") throw configDone.reason;
  if (layersDone.status === "rejected") throw layersDone.reason;
  const copied = layersDone.value;
  const { bytes: configBytes, config } = configDone.value;

  const diffIds = config ? checkDiffIds(run, config, infos, copied) : [];
  if (placeholders) await reportMadePlaceholders(run, infos, copied);
  let configOut = configBytes;
  if (config && placeholders) configOut = Buffer.from(configWithDiffIds(config, diffIds));
  const configDescriptor: Descriptor = {
    ...m.config,
    mediaType: mapConfigMediaType(m.config.mediaType, outFormat, what),
    digest: configOut === configBytes ? m.config.digest : sha256(configOut),
    size: configOut.length,
  };
  await writeConfigBlob(run, configOut, configDescriptor);

  const layers = copied.map((c, i) => mergeDescriptor(m.layers[i] as Descriptor, c.descriptor));
  const unchanged =
    outType === image.mediaType && sameDescriptor(configDescriptor, m.config) && layers.every((l, i) => l === m.layers[i]);
  if (unchanged) return { bytes: image.blob.bytes, mediaType: outType, digest: sha256(image.blob.bytes) };
  if (cannotModify) throw new UnsupportedError(`${what}: copying it would change the manifest, but ${cannotModify}`);
  const updated: ImageManifest = { ...m, config: configDescriptor, layers };
  return encodeManifest(outFormat === image.format ? updated : convertManifest(updated, outFormat, what), outType);
}

/** The layers to copy: layerInfosForCopy's when the source has them, else the manifest's. */
async function layerInfos(run: CopyRun, image: SingleImage, what: string): Promise<LayerInfo[]> {
  const fromManifest = image.manifest.layers;
  const override = await run.source.layerInfosForCopy?.(image.instance);
  if (!override) return fromManifest.map((d) => ({ ...d }));
  if (override.length !== fromManifest.length) {
    throw new CorruptInputError(`${what}: the source gave ${override.length} layers to copy for a manifest with ${fromManifest.length}`);
  }
  return override.map((info, i) => ({ ...info, mediaType: info.mediaType ?? (fromManifest[i] as Descriptor).mediaType }));
}

/** The first candidate type the image can be written as, checked before anything is written. */
function pickOutputType(
  candidates: string[],
  image: SingleImage,
  infos: LayerInfo[],
  choice: CompressionChoice,
  cannotModify: CannotModifyReason,
  what: string,
): string {
  let firstError: unknown;
  for (const type of candidates) {
    try {
      const outFormat = formatOfManifestType(type) as ManifestFormat;
      if (cannotModify && type !== image.mediaType) {
        throw new UnsupportedError(`${what}: the destination needs ${type}, but ${cannotModify}`);
      }
      mapConfigMediaType(image.manifest.config.mediaType, outFormat, what);
      for (const [i, info] of infos.entries()) {
        const layerWhat = `${what}: layers[${i}]`;
        const known = describeLayerMediaType(info.mediaType);
        const claimed = info.compression ?? known?.compression ?? "none";
        const op = known ? chooseLayerOperation(claimed, choice, layerWhat) : "keep";
        if (op !== "keep" && cannotModify) throw new UnsupportedError(`${layerWhat} would have to be changed (${op}), but ${cannotModify}`);
        outputLayerMediaType(info.mediaType, image.format, outFormat, op, compressionAfter(claimed, op, choice.algorithm), layerWhat);
      }
      return type;
    } catch (err) {
      firstError ??= err;
    }
  }
  throw firstError;
}

/** Checks computed DiffIDs against the config; returns diff_ids with the placeholders' filled in. */
function checkDiffIds(run: CopyRun, config: ImageConfig, infos: LayerInfo[], copied: CopiedLayer[]): Digest[] {
  const diffIds = [...config.diffIds];
  copied.forEach((layer, i) => {
    const info = infos[i] as LayerInfo;
    if (info.placeholder) {
      if (layer.diffId === undefined) throw new UnsupportedError(`layer ${i + 1} of ${run.srcName}: its DiffID could not be computed`);
      diffIds[i] = layer.diffId;
    } else if (layer.diffId !== undefined && layer.diffId !== config.diffIds[i]) {
      throw new DigestMismatchError(
        `layer ${info.digest} of ${run.srcName}: uncompressed content vs rootfs.diff_ids[${i}] of the config`,
        config.diffIds[i] as string,
        layer.diffId,
      );
    }
  });
  return diffIds;
}

/** The source's descriptor object when nothing changed (so unchanged manifests stay byte-identical). */
function mergeDescriptor(src: Descriptor, out: Descriptor): Descriptor {
  if (sameDescriptor(out, src)) return src;
  const merged: Descriptor = { ...src, mediaType: out.mediaType, digest: out.digest, size: out.size };
  if (out.annotations) merged.annotations = out.annotations;
  else delete merged.annotations;
  return merged;
}

function sameDescriptor(a: Descriptor, b: Descriptor): boolean {
  return (
    a.mediaType === b.mediaType &&
    a.digest === b.digest &&
    a.size === b.size &&
    JSON.stringify(a.annotations ?? {}) === JSON.stringify(b.annotations ?? {})
  );
}
