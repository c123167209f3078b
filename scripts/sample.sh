#!/usr/bin/env bash
# `npm run sample`: unpacks the bundled sample store (a real buildah vfs store) into .tmp/sample-store,
# exports its working container "sample-container" as an OCI image in ./out, and inspects the result.
set -euo pipefail
cd "$(dirname "$0")/.."

archive=test/fixtures/sample-store/store.tar.gz
# Overridable so tests can run the script in their own temp dirs (SAMPLE_EXTRACT_ONLY=1: stop after unpacking).
store="$(realpath -m "${SAMPLE_STORE_DIR:-.tmp/sample-store}")"
out="${SAMPLE_OUT:-./out}"

# Fresh each run; the vfs layer roots are read-only (0555), so make them writable before removing.
if [ -e "$store" ]; then chmod -R u+w "$store" 2>/dev/null || true; rm -rf "$store"; fi
mkdir -p "$store/graph" "$store/run"

tar_flags=(--xattrs --xattrs-include='*' -p)
if [ "$(id -u)" -eq 0 ]; then
  tar_flags+=(--numeric-owner --same-owner)
else
  echo "note: not root, so the sample store's file owners (root, uid 1000) become yours; the export works all the same" >&2
  tar_flags+=(--no-same-owner --warning=no-xattr-write)
fi
tar -xzf "$archive" -C "$store/graph" "${tar_flags[@]}"

[ -z "${SAMPLE_EXTRACT_ONLY:-}" ] || exit 0
[ -f dist/src/cli/main.cjs ] || npm run build

set -x
node dist/src/cli/main.cjs "container-copy:[vfs@$store/graph+$store/run]sample-container" "oci:$out:sample"
node dist/src/cli/main.cjs inspect "oci:$out:sample"
