-- Service bindings a function is granted (`"bindings": ["HOST"]`): least
-- privilege, so a function reaches only the host services it lists.

ALTER TABLE functions ADD COLUMN bindings TEXT[] NOT NULL DEFAULT '{}';
