// Receives payment.* events whose payload has customer.tier == "gold".
export default {
  async event(event, env, ctx) {
    console.log(`${event.type} for ${event.payload?.customer?.id}`);
  },
};
