-- A view, written by hand (prisma migrate dev --create-only).
CREATE VIEW "OrderTotals" AS
SELECT c."id" AS "customerId", c."email", count(o."id") AS "orders", coalesce(sum(o."amountCents"), 0) AS "totalCents"
  FROM "Customer" c
  LEFT JOIN "Order" o ON o."customerId" = c."id"
 GROUP BY c."id", c."email";
