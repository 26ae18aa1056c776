# The host platform keeps an audit trail of what tenants change in Quasm:
# every function and version change, every failed execution and every
# dead letter is POSTed to its endpoint, signed. Verify `Quasm-Signature`
# with the secret:
#   terraform output -raw audit_webhook_secret

variable "audit_endpoint" {
  type    = string
  default = "https://platform.example.com/quasm/audit"
}

resource "quasm_webhook" "audit" {
  url = var.audit_endpoint
  event_types = [
    "quasm.function.*",
    "quasm.version.*",
    "quasm.execution.failed",
    "quasm.dead_letter.created",
  ]
  description = "Audit trail in the host platform"
}

output "audit_webhook_secret" {
  value     = quasm_webhook.audit.signing_secret
  sensitive = true
}
