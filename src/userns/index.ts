// Entering the invoking user's user namespace the way podman does, for readers of rootless
// containers/storage stores: whether it is needed, and re-running a program inside it.
export {
  USERNS_CONFIGURED, ROOTLESS_UID, ROOTLESS_GID,
  insideUserNamespace, userNamespaceNeeded, isRootlessProcess, rootlessUid, namespaceChildEnv,
} from "./process-state.js";
export { runInUserNamespace, type ReexecOptions } from "./reexec.js";
export { planNamespaceEntry, parseUtilLinuxVersion, unshareMapArgs, findExecutable, type EntryPlan, type EntryPlanInput, type UtilLinuxVersion } from "./entry-plan.js";
export { namespaceMap, parseSubordinateRanges, readSubordinateRanges, type NamespaceIdRange, type SubordinateRange, type SubordinateOwner } from "./subordinate-ids.js";
