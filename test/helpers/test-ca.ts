// A throw-away certificate authority for tests, made with openssl: its CA, a server certificate for
// 127.0.0.1/localhost, and a client certificate pair; all PEM files in one temp folder.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { run, tempDir } from "./tools.js";

export interface TestCa {
  dir: string;
  caCertFile: string;
  caKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  caPem: string;
  cleanup(): Promise<void>;
}

/** Makes a CA (EC P-256, valid a day) and certificates it signs. */
export async function makeTestCa(): Promise<TestCa> {
  const tmp = await tempDir("imgcopy-ca-");
  const f = (name: string): string => join(tmp.path, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", ["req", "-x509", ...ec, "-keyout", f("ca.key"), "-out", f("ca.crt"), "-days", "1", "-subj", "/CN=imgcopy test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  await signed(f, "server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  await signed(f, "client", "/CN=imgcopy test client", "extendedKeyUsage=clientAuth\n");
  return {
    dir: tmp.path,
    caCertFile: f("ca.crt"),
    caKeyFile: f("ca.key"),
    serverCertFile: f("server.crt"),
    serverKeyFile: f("server.key"),
    clientCertFile: f("client.crt"),
    clientKeyFile: f("client.key"),
    caPem: await readFile(f("ca.crt"), "utf8"),
    cleanup: tmp.cleanup,
  };
}

async function signed(f: (name: string) => string, name: string, subject: string, extensions: string): Promise<void> {
  const { writeFile } = await import("node:fs/promises");
  await writeFile(f(`${name}.ext`), extensions);
  await run("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", subject]);
  await run("openssl", ["x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "1",
    "-extfile", f(`${name}.ext`), "-out", f(`${name}.crt`)]);
}
