// The console's one import site for the API client. Every call to the
// admin API goes through `Quasm` (the @quasm/sdk contract of issue 11).
export { Quasm, Run } from "./client";
export * from "./errors";
export type * from "./types";
