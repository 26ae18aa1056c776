# A webhook endpoint: POST /fn/<tenant>/hooks/<source> reaches the
# function's fetch handler without credentials.

resource "quasm_function" "webhook" {
  name = "webhook"
  code = file("${path.module}/webhook.js")
  env = {
    FORWARD_EVENT_TYPE = "webhook.received"
  }
}

resource "quasm_route" "webhook" {
  function = quasm_function.webhook.name
  method   = "POST"
  path     = "/hooks/:source"
  auth     = "public"
}
