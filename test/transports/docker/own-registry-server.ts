// A small registry-shaped HTTP server of the test's own (node:http on 127.0.0.1) for answers the real
// docker-registry 2.8 never gives: oversize or schema 1 manifests, tag lists paged with Link.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface OwnRegistry {
  /** "127.0.0.1:PORT". */
  host: string;
  /** "METHOD PATH?QUERY" of every request after the /v2/ ping. */
  requests: string[];
  stop(): Promise<void>;
}

/** Answers GET /v2/ with 200; every other request goes to `route`, which answers it or returns false (404). */
export async function startOwnRegistry(route: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<OwnRegistry> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    if (req.url === "/v2/" || req.url === "/v2") {
      res.writeHead(200, { "content-type": "application/json", "docker-distribution-api-version": "registry/2.0" }).end("{}");
      return;
    }
    requests.push(`${req.method} ${req.url}`);
    if (!route(req, res)) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "NAME_UNKNOWN", message: "no such repository" }] }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
