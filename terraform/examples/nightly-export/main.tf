# A nightly export: the function, a schedule at 00:00 Berlin time, and a
# Slack notification when a run fails.

variable "slack_webhook_url" {
  type      = string
  sensitive = true
}

variable "warehouse_token" {
  type      = string
  sensitive = true
}

resource "quasm_function" "export" {
  name        = "nightly-export"
  code        = file("${path.module}/export.js")
  description = "Exports yesterday's orders to the warehouse"
  tags        = ["batch", "export"]
  env = {
    WAREHOUSE_URL = "https://warehouse.example.com/import"
  }
  secrets = {
    WAREHOUSE_TOKEN = var.warehouse_token
  }
  limits {
    timeout_ms = 300000
    memory_mb  = 256
  }
}

resource "quasm_schedule" "nightly" {
  function = quasm_function.export.name
  cron     = "0 0 * * *"
  timezone = "Europe/Berlin"
  input    = jsonencode({ days = 1 })
  overlap  = "skip"
  catch_up = "once"
}

resource "quasm_alert_rule" "export_failed" {
  name              = "nightly-export-failed"
  function          = quasm_function.export.name
  on_failure        = true
  on_recovery       = true
  min_interval_secs = 3600
  channel {
    type = "slack"
    url  = var.slack_webhook_url
  }
}
