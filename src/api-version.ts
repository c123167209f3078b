// The version of the plugin API this host provides: the types of src/types.ts, the registry and the
// plugin.json format. A plugin.json's "imgcopyApi" range must include it (see src/plugins.ts).
// Bump the major version when a change would break an existing transport.
export const IMGCOPY_API_VERSION = "1.0.0";
