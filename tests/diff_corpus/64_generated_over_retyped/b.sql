-- 64_generated_over_retyped: schema B
CREATE TABLE rects (id bigint PRIMARY KEY, w bigint NOT NULL, h int NOT NULL CHECK (h > 0),
                    area bigint GENERATED ALWAYS AS (w * h) STORED);
CREATE INDEX rects_double_w ON rects ((w * 2));
