// The version of the plugin API this host provides: the types of src/types.ts, the registry and the
// plugin.json format. A plugin.json's "imgcopyApi" range must include it (see src/plugins.ts).
// Bump the major version when a change would break an existing transport.
// CommonJS so that the bin (src/cli/main.cts) can print it for --version without Node's ES module
// loader; ES modules import it as "./api-version.cjs".
const IMGCOPY_API_VERSION = "1.0.0";
export = { IMGCOPY_API_VERSION };
