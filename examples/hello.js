// An example function: `quasm run examples/hello.js --input '{"name":"Ada"}'`
// or as an HTTP handler: `quasm run examples/hello.js --handler fetch --url http://localhost/hi`.
export default {
  async run(input, env, ctx) {
    console.log("invocation", ctx.invocationId, "for tenant", ctx.tenant);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input?.name ?? "world"));
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    return { greeting: `Hello, ${input?.name ?? "world"}!`, sha256: hex.slice(0, 16) };
  },
  fetch(request) {
    const url = new URL(request.url);
    return Response.json({ method: request.method, path: url.pathname });
  },
};
