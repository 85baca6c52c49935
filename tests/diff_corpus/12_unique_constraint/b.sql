-- 12_unique_constraint: schema B
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, tenant int NOT NULL, handle text NOT NULL,
                    CONSTRAINT users_tenant_handle_key UNIQUE (tenant, handle));
