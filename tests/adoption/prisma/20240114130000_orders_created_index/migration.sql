-- CreateIndex (alone in its migration: Prisma runs a lone statement outside a transaction block)
CREATE INDEX CONCURRENTLY "Order_createdAt_idx" ON "Order"("createdAt");
