// The five kinds of function a person starts from: working starter code
// (typed for the editor through JSDoc, so `env.` and `ctx.` complete) and
// which trigger comes with it.

export type Kind = "scheduled" | "http" | "event" | "job" | "embedded";

export interface Template {
  kind: Kind;
  label: string;
  blurb: string;
  code: string;
  input?: unknown;
}

export const TEMPLATES: Template[] = [
  {
    kind: "scheduled",
    label: "Scheduled",
    blurb: "Runs on a cron schedule in a time zone: nightly exports, reports, clean-ups.",
    code: `// Runs on its schedule; "Run" in the editor calls run() with the same logic.
export default {
  /**
   * @param {ScheduledEvent} event
   * @param {Env} env
   * @param {ExecutionContext} ctx
   */
  async scheduled(event, env, ctx) {
    return nightly(event.input, env, ctx);
  },

  /**
   * @param {any} input
   * @param {Env} env
   * @param {ExecutionContext} ctx
   */
  async run(input, env, ctx) {
    return nightly(input, env, ctx);
  },
};

/**
 * @param {any} input
 * @param {Env} env
 * @param {ExecutionContext} ctx
 */
async function nightly(input, env, ctx) {
  const last = await env.KV.get("last-run");
  console.log("previous run:", last ?? "never");
  ctx.progress(50, "halfway");
  await env.KV.put("last-run", new Date().toISOString());
  ctx.progress(100, "done");
  return { previous: last, input };
}
`,
    input: { dryRun: true },
  },
  {
    kind: "http",
    label: "HTTP endpoint",
    blurb: "Answers requests on a route of your tenant: webhooks, small APIs.",
    code: `export default {
  /**
   * @param {Request} request
   * @param {Env} env
   * @param {ExecutionContext} ctx
   */
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const body = request.method === "POST" ? await request.json() : null;
    console.log(request.method, url.pathname);
    return Response.json({ ok: true, path: url.pathname, params: ctx.params ?? {}, received: body });
  },

  /**
   * @param {any} input
   * @param {Env} env
   * @param {ExecutionContext} ctx
   */
  async run(input, env, ctx) {
    return { hello: input?.name ?? "world" };
  },
};
`,
    input: { name: "Ada" },
  },
  {
    kind: "event",
    label: "Event handler",
    blurb: "Receives domain events (with retries and a dead-letter queue).",
    code: `export default {
  /**
   * @param {QuasmEvent} event
   * @param {Env} env
   * @param {ExecutionContext} ctx
   */
  async event(event, env, ctx) {
    console.log("got", event.type, "attempt", event.attempt);
    const seen = await env.KV.get("seen:" + event.id);
    if (seen) return { duplicate: true };
    await env.KV.put("seen:" + event.id, "1", { expirationTtl: 86400 });
    return { handled: event.type, payload: event.payload };
  },

  /**
   * @param {any} input
   * @param {Env} env
   * @param {ExecutionContext} ctx
   */
  async run(input, env, ctx) {
    return { echo: input };
  },
};
`,
    input: { orderId: 42 },
  },
  {
    kind: "job",
    label: "One-off job",
    blurb: "Run once by hand with an input and watch its progress: migrations, backfills.",
    code: `export default {
  /**
   * @param {any} input
   * @param {Env} env
   * @param {ExecutionContext} ctx
   */
  async run(input, env, ctx) {
    const steps = input?.steps ?? 5;
    for (let i = 1; i <= steps; i++) {
      console.log("step", i, "of", steps);
      await new Promise((r) => setTimeout(r, input?.delayMs ?? 200));
      ctx.progress(Math.round((i / steps) * 100), "step " + i);
    }
    return { done: steps };
  },
};
`,
    input: { steps: 5, delayMs: 200 },
  },
  {
    kind: "embedded",
    label: "Embedded logic",
    blurb: "Business rules a host service calls through the SDK (quasm.invoke).",
    code: `// Called by a host service: await quasm.invoke("<name>", { items, country })
export default {
  /**
   * @param {{ items: { price: number, qty: number }[], country?: string }} input
   * @param {Env} env
   * @param {ExecutionContext} ctx
   */
  async run(input, env, ctx) {
    const subtotal = input.items.reduce((s, i) => s + i.price * i.qty, 0);
    const vat = input.country === "FR" ? 0.2 : 0;
    return { subtotal, vat: subtotal * vat, total: subtotal * (1 + vat) };
  },
};
`,
    input: { items: [{ price: 10, qty: 3 }], country: "FR" },
  },
];

export function template(kind: string | null): Template {
  return TEMPLATES.find((t) => t.kind === kind) ?? TEMPLATES[0]!;
}

/** The run panel's input, remembered per function in this browser. */
export function savedInput(fn: string): string | null {
  return localStorage.getItem(`quasm.input.${fn}`);
}
export function saveInput(fn: string, json: string): void {
  localStorage.setItem(`quasm.input.${fn}`, json);
}
