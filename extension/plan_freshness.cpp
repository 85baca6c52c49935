// Cached plans remade when the catalogs have grown (see plan_freshness.hpp).
extern "C" {
#include "postgres.h"
#include "access/table.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "storage/bufmgr.h"
#include "utils/plancache.h"
#include "utils/rel.h"
}

#include "pg/boundary.hpp"
#include "plan_freshness.hpp"

namespace pgmig::plan_freshness {
namespace {

// The catalogs' pages when the session's plans were last made (0: not measured yet in this session).
uint64 g_planned_at = 0;

uint64 catalog_pages() {
    return pg::call([] {
        uint64 pages = 0;
        for (const Oid relid : {RelationRelationId, AttributeRelationId, DependRelationId}) {
            Relation rel = table_open(relid, AccessShareLock);
            pages += RelationGetNumberOfBlocks(rel);
            table_close(rel, NoLock);  // (held to the end of the transaction, as every catalog read holds it)
        }
        return pages;
    });
}

}  // namespace

void replan_if_catalogs_grew() {
    const uint64 pages = catalog_pages();
    if (g_planned_at == 0) {
        g_planned_at = pages;
    } else if (pages > 2 * g_planned_at) {
        pg::call([] { ResetPlanCache(); });
        g_planned_at = pages;
    }
}

}  // namespace pgmig::plan_freshness
