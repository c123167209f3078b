// A child process for concurrent-commit.test.ts: copies the image of oci:SRC into oci:DEST:TAG
// (made distinct by an annotation), prints "ready", and commits when a line arrives on stdin.
import { once } from "node:events";
import ociTransport from "../../../transports/oci/index.js";
import { feedImage } from "../scratch-images.js";

const [srcPath, destPath, tag] = process.argv.slice(2);
if (!srcPath || !destPath || !tag) throw new Error("usage: concurrent-writer.ts SRC DEST TAG");
const src = await ociTransport.parseReference(srcPath).newImageSource({});
const dest = await ociTransport.parseReference(`${destPath}:${tag}`).newImageDestination({ warn: (m) => process.stderr.write(`${m}\n`) });
try {
  await feedImage(src, dest, { noCommit: true, editManifest: (m) => ({ ...m, annotations: { writer: tag } }) });
  process.stdout.write("ready\n");
  await once(process.stdin, "data");
  await dest.commit();
} finally {
  await dest.close();
  await src.close();
}
process.exit(0);
