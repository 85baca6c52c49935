DROP VIEW "OrderTotals";
