-- 48_partitioned_table: schema A
CREATE TABLE measurements (id bigint NOT NULL, taken date NOT NULL, value numeric, PRIMARY KEY (id, taken)) PARTITION BY RANGE (taken);
CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
