// Which handlers a function's code exports (run, fetch, scheduled, event),
// read from its text — method definitions of the default export, named
// exports, service-worker listeners — and a sample input for each.

export type HandlerName = "run" | "fetch" | "scheduled" | "event";
export const HANDLERS: HandlerName[] = ["run", "fetch", "scheduled", "event"];

const NAME = "(run|fetch|scheduled|event)";
const PATTERNS = [
  // `async run(input, env, ctx) {` / `fetch(request) {` at the start of a line (a method).
  new RegExp(`^\\s*(?:async\\s+)?${NAME}\\s*\\([^)]*\\)\\s*\\{`, "gm"),
  // `run: async (input) =>` / `fetch: function (req) {`
  new RegExp(`^\\s*${NAME}\\s*:\\s*(?:async\\s*)?(?:function\\b|\\(|[A-Za-z_$][\\w$]*\\s*=>)`, "gm"),
  // `export async function run(` / `export const fetch =`
  new RegExp(`export\\s+(?:async\\s+)?(?:function\\s*\\*?\\s*|const\\s+|let\\s+)${NAME}\\b`, "g"),
  // Service-worker syntax: `addEventListener("fetch", ...)`.
  new RegExp(`addEventListener\\(\\s*["'\`]${NAME}["'\`]`, "g"),
];

/** The handlers `code` defines, in a stable order; empty when none is recognisable. */
export function exportedHandlers(code: string): HandlerName[] {
  // Comments would otherwise count: drop them (roughly; strings stay).
  const text = code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
  const found = new Set<HandlerName>();
  for (const re of PATTERNS) {
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) found.add(m[1] as HandlerName);
  }
  return HANDLERS.filter((h) => found.has(h));
}

/** A sample argument shaped like what the trigger passes. */
export function sampleInput(h: HandlerName): unknown {
  const now = new Date();
  if (h === "scheduled")
    return { cron: "0 2 * * *", scheduled_time: now.getTime(), timezone: "UTC", schedule_id: 0 };
  if (h === "event")
    return { id: crypto.randomUUID(), type: "test.ping", payload: { hello: "world" }, key: null, attempt: 1, published_at: now.toISOString() };
  if (h === "fetch") return { hello: "world" };
  return null;
}
