-- Revert shop:orders_created_index from pg

DROP INDEX CONCURRENTLY shop.orders_created_at_idx;
