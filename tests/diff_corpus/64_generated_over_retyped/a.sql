-- 64_generated_over_retyped: schema A
CREATE TABLE rects (id bigint PRIMARY KEY, w int NOT NULL, h int NOT NULL CHECK (h > 0),
                    area int GENERATED ALWAYS AS (w * h) STORED);
CREATE INDEX rects_double_w ON rects ((w * 2));
