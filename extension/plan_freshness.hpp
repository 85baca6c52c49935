// Cached plans remade when the schema they were made for has grown.
//
// pgmig's queries over the catalogs and its own tables keep their plans for the session (SPI plans,
// PL/pgSQL's, most of them generic). A plan is made for the sizes the tables had then: in a new
// database pg_class fits in a few pages and looking a few OIDs up is planned as a sequential scan,
// which a session that goes on creating tables (pgmig test, a long deploy) keeps using at ten times
// the size. PostgreSQL remakes a plan when a table it reads changes definition or is analyzed, not
// when it grows; so the ledger's functions remake the session's plans (ResetPlanCache(), as DISCARD
// PLANS does) whenever the catalogs have doubled in size since they were last made.
#pragma once

namespace pgmig::plan_freshness {

// Remakes every cached plan of the session (at their next use) when pg_class, pg_attribute and
// pg_depend together have more than twice the pages they had when this was first called in the session
// or last remade them. Cheap otherwise: the sizes of three relations.
void replan_if_catalogs_grew();

}  // namespace pgmig::plan_freshness
