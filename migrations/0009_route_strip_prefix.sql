-- A route may present `request.url` without the `/fn/{tenant}` prefix, so a
-- Worker script written for its own domain routes on `url.pathname`
-- unchanged. Existing routes keep the full URL.
ALTER TABLE routes ADD COLUMN strip_prefix boolean NOT NULL DEFAULT false;
