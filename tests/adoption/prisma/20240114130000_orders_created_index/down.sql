DROP INDEX CONCURRENTLY "Order_createdAt_idx";
