// Child process of layer-workers.test.ts: reads one layer made on a worker, drops a second one
// after its first chunk and leaves a third unread, then returns: the process must exit by itself.
import { produceLayer } from "../../../../transports/container-storage-copy/layers/layer-workers.js";
import type { LayerStreamInput } from "../../../../transports/container-storage-copy/layers/index.js";

const input = JSON.parse(process.argv[2] as string) as LayerStreamInput;
let total = 0;
for await (const chunk of (await produceLayer(input)).stream) total += (chunk as Buffer).length;
const dropped = (await produceLayer(input)).stream;
for await (const _chunk of dropped) break; // destroys it
await produceLayer(input); // never read
console.log(`read ${total} bytes, dropped one stream`);
