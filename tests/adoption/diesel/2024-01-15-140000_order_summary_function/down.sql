DROP FUNCTION order_summary(INTEGER);
