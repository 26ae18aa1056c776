# An API key a host service uses to invoke functions. The secret is known
# only when Terraform creates the key; read it with
#   terraform output -raw host_service_key

resource "quasm_api_key" "host_service" {
  name       = "billing-service"
  roles      = ["developer"]
  expires_at = "2027-12-31T23:59:59Z"
}

output "host_service_key" {
  value     = quasm_api_key.host_service.key
  sensitive = true
}
