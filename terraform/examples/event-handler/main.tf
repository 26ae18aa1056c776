# An event handler: payment events of gold customers, retried with backoff.

resource "quasm_function" "on_payment" {
  name = "on-payment"
  code = file("${path.module}/handler.js")
}

resource "quasm_subscription" "gold_payments" {
  function   = quasm_function.on_payment.name
  event_type = "payment.*"
  # Dotted keys nest: the same as { customer = { tier = "gold" } }.
  filter       = jsonencode({ "customer.tier" = "gold" })
  max_attempts = 8
  backoff {
    initial_ms = 2000
    max_ms     = 300000
  }
}
