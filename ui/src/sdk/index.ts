// The console's one import site for the API client: @quasm/sdk (sdk-js/,
// imported from source through the `@quasm/sdk` alias in vite.config.ts and
// tsconfig.json). Every call to the admin API goes through it, except the
// the three console endpoints bound to the session (extras.ts).
export * from "@quasm/sdk";
export type { FunctionInfo as QFunction } from "@quasm/sdk";
export type { Stats, Whoami, Diagnostic, CheckResult } from "./types";
export { extras } from "./extras";
