// Accepts a webhook and answers 202; the route's `:source` segment says
// who sent it.
export default {
  async fetch(request, env, ctx) {
    const body = await request.text();
    console.log(`webhook from ${ctx.params.source}: ${body.length} bytes`);
    return new Response(null, { status: 202 });
  },
};
