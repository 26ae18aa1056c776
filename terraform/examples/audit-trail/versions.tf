terraform {
  required_providers {
    quasm = {
      source = "quasm/quasm"
    }
  }
}

# endpoint and token come from QUASM_URL and QUASM_TOKEN when left out.
provider "quasm" {}
