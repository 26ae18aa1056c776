-- Claims share free delivery slots between the tenants with due work
-- (controller/src/fair_claim.rs): it finds them one index probe per tenant
-- with pending deliveries, and takes each one's oldest.
CREATE INDEX deliveries_pending_tenant ON deliveries (tenant_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_pending_tenant ON webhook_deliveries (tenant_id, next_attempt_at)
    WHERE status = 'pending';
