// The contract between the host, the copy engine and every transport (see DESIGN.md).
import type { Readable } from "node:stream";

/** "sha256:<64 hex>". */
export type Digest = string;

export type CompressionAlgorithm = "gzip" | "zstd";

/** What is known about one blob. Sources fill what they know; destinations return what they stored. */
export interface BlobInfo {
  /** Digest of the blob as stored. A placeholder (see `placeholder`) when the source cannot know it yet. */
  digest: Digest;
  /** Size in bytes as stored; -1 when unknown. */
  size: number;
  mediaType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  /** Compression of the stored bytes when known ("none" = a plain tar). */
  compression?: CompressionAlgorithm | "none";
  /** Digest of the uncompressed content (for layers: the DiffID), when known. */
  uncompressedDigest?: Digest;
  /** True when digest/size are not real yet: the engine computes them while streaming. */
  placeholder?: boolean;
  /**
   * On a placeholder: the DiffID and uncompressed size the source expects this layer to have (a
   * container-copy source remembers them for an unchanged read-write layer). The engine first
   * tries reusing a blob of that DiffID the destination holds (checked as any reuse is); failing
   * that, it makes the layer and computes its digests as for any placeholder.
   */
  expectedUncompressed?: { digest: Digest; size: number };
}

export interface ManifestBlob {
  bytes: Uint8Array;
  mediaType: string;
}

/** What the user said that a transport may need. Transports never read CLI flags or process.argv. */
export interface SystemContext {
  /** Environment to consult (storage.conf lookup, XDG paths, SOURCE_DATE_EPOCH); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** containers/storage location, when not named in the reference. */
  storageRoot?: string;
  storageRunRoot?: string;
  storageDriver?: string;
  /** How long to wait for a store's lock before "store is busy" (ms). */
  lockTimeoutMs?: number;
  /** oci destination: keep uncompressed layers uncompressed. */
  ociAcceptUncompressedLayers?: boolean;
  /** docker-archive destination: extra NAME:TAG entries in RepoTags. */
  additionalTags?: string[];
  /** Making an image from a container (container-copy): what buildah commit would take as flags. */
  commit?: CommitOptions;
  /** Cancels waits a transport makes while opening (a busy store's lock, a spooled pipe). */
  signal?: AbortSignal;
  /** Called with one-line warnings a user should see (stderr in the CLI); a line starting "note: " is printed as a note. */
  warn?: (message: string) => void;
  /** docker://: credentials given on the command line (--creds/--src-creds/--dest-creds, --username/--password). Never sent to mirrors. */
  dockerAuth?: { username: string; password: string };
  /** docker://: a bearer token given on the command line (--registry-token). */
  dockerBearerToken?: string;
  /** --authfile (the CLI also takes REGISTRY_AUTH_FILE from env when not given). */
  authFilePath?: string;
  /** --cert-dir / --src-cert-dir / --dest-cert-dir. */
  dockerCertPath?: string;
  /** --tls-verify=false (and --src-/--dest-): skip verification and allow plain HTTP. undefined = registries.conf decides. */
  dockerInsecureSkipTLSVerify?: boolean;
  /** registries.conf to read instead of the system's (REGISTRIES_CONFIG_PATH). */
  registriesConfPath?: string;
  /** Whole-operation retries (--retry-times, --retry-delay seconds). */
  retryTimes?: number;
  retryDelayMs?: number;
  /** docker://: a connection without headers or body bytes for this long fails (then may be retried); default 120 s. */
  dockerStallTimeoutMs?: number;
}

export interface CommitOptions {
  createdBy?: string;
  author?: string;
  message?: string;
  omitHistory?: boolean;
  /** The image's created time; default: now, or SOURCE_DATE_EPOCH when set. */
  timestamp?: Date;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** Dockerfile-style instructions applied to the config: "ENV A=b", "CMD [\"sh\"]", "LABEL k=v", ... */
  changes?: string[];
  /** podman containers: every volume the container was given becomes an image volume (podman commit --include-volumes). */
  includeVolumes?: boolean;
}

export interface ImageTransport {
  /** As typed before the colon: "oci", "container-copy". */
  readonly name: string;
  /** Parses the text after "name:"; throws BadReferenceError with a clear message. */
  parseReference(rest: string): ImageReference;
  /**
   * Optional: what a location holds (`imgcopy list NAME:LOCATION`), e.g. the containers and images
   * of a store. `location` is the text after "name:", possibly empty.
   */
  list?(location: string, ctx: SystemContext): Promise<ListedItem[]>;
  /**
   * Optional: whether listing `location` must happen inside the invoking user's user namespace (see
   * UserNamespaceRequest). Asked before `list`, outside the namespace; must open and lock nothing.
   */
  listUserNamespace?(location: string, ctx: SystemContext): Promise<UserNamespaceRequest | undefined>;
  /** Optional, registry-like transports: a repository's tags (`imgcopy list-tags NAME:REPOSITORY`). */
  listTags?(location: string, ctx: SystemContext): Promise<RepositoryTags>;
  /** Optional, registry-like transports: `imgcopy login` / `logout` (check credentials, keep them in the auth file). */
  readonly logins?: RegistryLogins;
}

/** What `imgcopy login`/`logout` ask of a registry-like transport. `host` is HOST[:PORT][/NAMESPACE]. */
export interface RegistryLogins {
  /** Checks the credentials against the registry, then stores them; returns the auth file written. */
  login(host: string, credentials: { username: string; password: string }, ctx: SystemContext): Promise<string>;
  /** Removes the host's stored credentials (every registry's when `host` is undefined); returns the auth file changed. */
  logout(host: string | undefined, ctx: SystemContext): Promise<string>;
  /** The user whose credentials are stored for the host (podman login --get-login); a NotFoundError when none. */
  storedUser(host: string, ctx: SystemContext): Promise<string>;
}

/** What `imgcopy list-tags` prints, spelled as skopeo list-tags prints it. */
export interface RepositoryTags {
  Repository: string;
  Tags: string[];
}

/**
 * A transport's answer when what it reads belongs to an unprivileged user's user namespace (a
 * rootless containers/storage store: files owned by subordinate ids, owners meant in container
 * terms). The CLI then runs itself again inside that namespace before anything is opened (src/userns);
 * a library caller must already run inside it (`runInUserNamespace`, or `buildah unshare`).
 */
export interface UserNamespaceRequest {
  /** What needs it, for messages: "container-copy store overlay@/home/u/.local/share/containers/storage". */
  what: string;
}

export interface ListedItem {
  kind: "container" | "image";
  id: string;
  names: string[];
  /** For a container: the image it was made from (id), "" for scratch. */
  image?: string;
  /** For a container: the tool that made it, when the location can tell (podman's record, buildah's state, else "other"). */
  madeBy?: "podman" | "buildah" | "other";
  /** Bytes, when known without reading content. */
  size?: number;
  created?: string;
}

export interface ImageReference {
  readonly transport: ImageTransport;
  /** "name:rest", which parses back to an equal reference. */
  toString(): string;
  newImageSource(ctx: SystemContext): Promise<ImageSource>;
  /** Read-only transports reject with UnsupportedError. */
  newImageDestination(ctx: SystemContext): Promise<ImageDestination>;
  /**
   * Optional: whether opening this reference must happen inside the invoking user's user namespace.
   * Asked outside it, before any source or destination is opened; must open and lock nothing.
   */
  userNamespace?(ctx: SystemContext): Promise<UserNamespaceRequest | undefined>;
}

export interface BlobStream {
  stream: Readable;
  /** -1 when unknown. */
  size: number;
  /**
   * True when the source itself checks these bytes against the digest and size it was asked for
   * and fails the stream before its last byte leaves on a mismatch (a tar-split replay checks the
   * store's diff digest): the engine then does not hash them a second time.
   */
  digestVerified?: boolean;
  /**
   * Optional: a regular file on this machine whose whole content is what `stream` gives (a layout's
   * blob file). A destination that stores files may then copy the file (copy_file_range, or a
   * reflink) instead of reading the stream; the engine verifies the copy (see putBlobFromFile).
   */
  file?: string;
  /**
   * A source that hashed the bytes as it produced them (a layer made on another thread): their
   * sha256 and size, read once the stream has ended; undefined when it did not. The engine then
   * need not hash a placeholder blob itself.
   */
  producedDigest?: () => { digest: Digest; size: number } | undefined;
}

export interface ImageSource {
  readonly reference: ImageReference;
  /** The repository the reference names ("docker.io/library/app"), printed by inspect as "Name"; undefined when it names none. */
  readonly dockerName?: string | undefined;
  /**
   * Without `instance`: the image's manifest (or the index/list, for a multi-image source).
   * With `instance`: that manifest of the index/list.
   */
  getManifest(instance?: Digest): Promise<ManifestBlob>;
  /** The blob's bytes as stored. The engine verifies digest and size while reading. */
  getBlob(info: BlobInfo, signal?: AbortSignal): Promise<BlobStream>;
  getSignatures?(instance?: Digest): Promise<Uint8Array[]>;
  /**
   * Layer infos to copy instead of the manifest's, in manifest order; undefined = use the manifest.
   * A source that only learns its layers' digests while producing them marks them `placeholder`.
   */
  layerInfosForCopy?(instance?: Digest): Promise<BlobInfo[] | undefined>;
  /** Registry-like sources: the repository's tags (skopeo inspect's RepoTags). */
  listTags?(signal?: AbortSignal): Promise<string[]>;
  /**
   * Optional: the engine made placeholder layer `info` (as layerInfosForCopy gave it) and the
   * destination stored it; `layer` is the DiffID and uncompressed size the engine computed from the
   * bytes. A source may remember them to announce as `expectedUncompressed` next time. Never throws.
   */
  placeholderCopied?(info: BlobInfo, layer: { diffId: Digest; size: number }): Promise<void>;
  close(): Promise<void>;
}

export interface ReuseOptions {
  /** The engine would compress the layer with this algorithm; a compressed blob of the same DiffID may stand in. */
  compressTo?: CompressionAlgorithm;
  /** Compressed blobs the blob-info cache remembers for this DiffID here, newest first: hints to verify, never facts. */
  candidates?: BlobInfo[];
  /**
   * The same from other locations inside the destination's `blobCacheScope()` (a registry's other
   * repositories, which a cross-repository mount can take blobs from), newest location first.
   */
  nearbyCandidates?: NearbyCandidate[];
}

/** A compressed blob the blob-info cache remembers at another location of the destination's scope. */
export interface NearbyCandidate {
  /** The location as its destination named it (blobCacheLocation()). */
  location: string;
  blob: BlobInfo;
}

export type LayerCompressionWish = "preserve" | "compress" | "decompress";

export interface PutBlobOptions {
  isConfig: boolean;
  /**
   * The engine hashes the stream as it flows: once the stream has ended, `digest()` and `size` are
   * those of the bytes given. A destination uses them instead of hashing the bytes again.
   */
  streamDigest?: StreamDigest;
}

export interface PutBlobFileOptions extends PutBlobOptions {
  /** Checks the destination's copy against `info`'s digest and size; throws DigestMismatchError when it differs. */
  verify(copy: string): Promise<void>;
}

/** A digest computed while a stream flows; valid once the stream has ended. */
export interface StreamDigest {
  digest(): Digest;
  readonly size: number;
}

export interface ImageDestination {
  readonly reference: ImageReference;
  /** Manifest media types accepted, preferred first; [] = any. */
  supportedManifestTypes(): readonly string[];
  desiredLayerCompression(): LayerCompressionWish;
  /** True when putBlob may be called concurrently. */
  hasThreadSafePutBlob(): boolean;
  /**
   * When the destination already has the blob: its stored info (the engine then skips the copy).
   * With `opts.compressTo`, the engine would compress this layer (`info.digest` is its DiffID): a
   * blob already there holding the same DiffID compressed with that algorithm may be returned
   * instead, once the destination has checked it (from its own records, or `opts.candidates`,
   * what the blob-info cache remembers, each verified before use).
   */
  tryReusingBlob(info: BlobInfo, opts?: ReuseOptions): Promise<BlobInfo | undefined>;
  /**
   * Optional: names where this destination keeps blobs (e.g. "oci:/abs/layout"), so that the
   * blob-info cache can remember what was written there; undefined = nothing to remember.
   */
  blobCacheLocation?(): string | undefined;
  /**
   * Optional: a prefix of blobCacheLocation() that names the other locations this destination can
   * take blobs from (e.g. "docker://HOST/" for a registry's repositories); what the cache remembers
   * there comes as ReuseOptions.nearbyCandidates.
   */
  blobCacheScope?(): string | undefined;
  /**
   * Stores `stream`. `info.digest`/`info.size` are those the engine computed or verified (a
   * destination need not hash again); when `info.placeholder` is set the destination returns the
   * real digest: `opts.streamDigest`'s when given, else it hashes what it writes.
   */
  putBlob(stream: Readable, info: BlobInfo, opts: PutBlobOptions): Promise<BlobInfo>;
  /**
   * Optional: stores a copy of the regular file `path` (BlobStream.file of a blob kept as it is;
   * never a placeholder). The destination copies the file to a temporary name, awaits
   * `opts.verify(copy)` (the engine hashes the copy: it throws when digest or size differ) before
   * the copy becomes part of anything, and removes it on any failure. Returns what putBlob would.
   */
  putBlobFromFile?(path: string, info: BlobInfo, opts: PutBlobFileOptions): Promise<BlobInfo>;
  /** `instance`: a per-image manifest of a list/index (given before the list itself). */
  putManifest(bytes: Uint8Array, mediaType: string, instance?: Digest): Promise<void>;
  putSignatures?(signatures: Uint8Array[], instance?: Digest): Promise<void>;
  /** The one publish point: before it, nothing a reader sees has changed. */
  commit(): Promise<void>;
  /** Without commit: everything written so far is removed. Safe to call twice. */
  close(): Promise<void>;
}

/** An event of a copy's progress; the CLI renders them on stderr. */
export interface ProgressEvent {
  /** "image": --all, one image of the list begins ("start") or is written ("done"). */
  kind: "blob" | "config" | "manifest" | "signatures" | "image";
  /**
   * Digest of the source blob (a placeholder id for computed layers). With --all, on "image",
   * "manifest" and "signatures" events: the source digest of the image's manifest (or, with `list`, the list's).
   */
  digest?: Digest;
  /** Bytes transferred so far. */
  bytes: number;
  /** Total when known, else -1. */
  total: number;
  state: "start" | "progress" | "done" | "skipped";
  /** The source did not know this layer's digest (`digest` is its placeholder): name it by `storedDigest` once done. */
  placeholder?: boolean;
  /** For a done layer whose digest was computed or changed by (de)compression (or a manifest changed by conversion). */
  storedDigest?: Digest;
  /** --all, on "image" events: the image's place in the list (1-based) and how many images the list has. */
  position?: number;
  count?: number;
  /** --all: this "manifest" or "signatures" event is for the list/index itself, not one of its images. */
  list?: boolean;
}
