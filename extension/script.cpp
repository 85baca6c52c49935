// Cutting migration scripts into statements with the server's own grammar (raw_parser).
#include "script.hpp"

extern "C" {
#include "postgres.h"
#include "catalog/namespace.h"
#include "catalog/pg_class_d.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/lsyscache.h"
}

#include <algorithm>
#include <cstring>

#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/interrupts.hpp"

namespace pgmig {

size_t skip_block_comment(std::string_view s, size_t pos, size_t end) {
    int depth = 1;  // PostgreSQL's block comments nest
    pos += 2;
    while (pos < end && depth > 0) {
        if (s.compare(pos, 2, "/*") == 0) {
            ++depth;
            pos += 2;
        } else if (s.compare(pos, 2, "*/") == 0) {
            --depth;
            pos += 2;
        } else {
            ++pos;
        }
    }
    return std::min(pos, end);
}

namespace {

// raw_parser's stmt_location may point at whitespace or comments before the first token.
size_t skip_blanks_and_comments(std::string_view s, size_t pos, size_t end) {
    while (pos < end) {
        const char c = s[pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            ++pos;
        } else if (c == '-' && pos + 1 < end && s[pos + 1] == '-') {
            const size_t nl = s.find('\n', pos);
            pos = nl == std::string::npos ? end : nl + 1;
        } else if (c == '/' && pos + 1 < end && s[pos + 1] == '*') {
            pos = skip_block_comment(s, pos, end);
        } else {
            break;
        }
    }
    return std::min(pos, end);
}

struct RawSpan {
    int location;
    int length;
    int kind;
    bool transaction_control;
    const char* needs_no_transaction;
    const RangeVar* partitioned;  // needs no transaction if this relation is partitioned
    const char* partitioned_what;
};

const DefElem* find_option(List* options, const char* name) {
    ListCell* cell = nullptr;
    foreach (cell, options) {
        const auto* opt = static_cast<DefElem*>(lfirst(cell));
        if (strcmp(opt->defname, name) == 0) return opt;
    }
    return nullptr;
}

// An option's boolean value as PostgreSQL reads it (defGetBoolean), `absent` when it is not given. A value
// PostgreSQL would refuse counts as true: the statement fails either way, and refusing it early is safe.
bool option_is_true(List* options, const char* name, bool absent) {
    const DefElem* opt = find_option(options, name);
    if (opt == nullptr) return absent;
    try {
        auto* def = const_cast<DefElem*>(opt);
        return pg::call([def] { return defGetBoolean(def); });
    } catch (const pg::PgError& e) {
        if (pg::is_interrupt(e)) throw;
        return true;
    }
}

// The statements PostgreSQL 15, 17 and 18 refuse inside a transaction block: every caller of
// PreventInTransactionBlock in src/backend (utility.c, indexcmds.c, tablecmds.c via utility.c,
// dbcommands.c, cluster.c, vacuum.c, discard.c, subscriptioncmds.c; 17 added SET (failover)). COMMIT/ROLLBACK PREPARED are
// transaction control, refused on their own. Those that depend on the catalog (REINDEX or CLUSTER of a
// partitioned relation, DROP SUBSCRIPTION of one without a slot) are classified by name below and by
// needs_no_transaction_now().
const char* needs_no_transaction(Node* stmt) {
    switch (nodeTag(stmt)) {
        case T_IndexStmt:
            return castNode(IndexStmt, stmt)->concurrent ? "CREATE INDEX CONCURRENTLY" : nullptr;
        case T_DropStmt:
            return castNode(DropStmt, stmt)->concurrent ? "DROP INDEX CONCURRENTLY" : nullptr;
        case T_ReindexStmt: {
            const auto* reindex = castNode(ReindexStmt, stmt);
            if (option_is_true(reindex->params, "concurrently", false)) return "REINDEX CONCURRENTLY";
            switch (reindex->kind) {
                case REINDEX_OBJECT_SCHEMA:
                    return "REINDEX SCHEMA";
                case REINDEX_OBJECT_SYSTEM:
                    return "REINDEX SYSTEM";
                case REINDEX_OBJECT_DATABASE:
                    return "REINDEX DATABASE";
                default:
                    return nullptr;
            }
        }
        case T_VacuumStmt:
            return castNode(VacuumStmt, stmt)->is_vacuumcmd ? "VACUUM" : nullptr;
        case T_ClusterStmt:
            return castNode(ClusterStmt, stmt)->relation == nullptr ? "CLUSTER without a table" : nullptr;
        case T_AlterTableStmt: {
            ListCell* cell = nullptr;
            foreach (cell, castNode(AlterTableStmt, stmt)->cmds) {
                const auto* cmd = static_cast<AlterTableCmd*>(lfirst(cell));
                if (cmd->subtype == AT_DetachPartition && castNode(PartitionCmd, cmd->def)->concurrent) {
                    return "ALTER TABLE ... DETACH PARTITION CONCURRENTLY";
                }
            }
            return nullptr;
        }
        case T_CreatedbStmt:
            return "CREATE DATABASE";
        case T_DropdbStmt:
            return "DROP DATABASE";
        case T_AlterDatabaseStmt:
            return find_option(castNode(AlterDatabaseStmt, stmt)->options, "tablespace") != nullptr
                       ? "ALTER DATABASE ... SET TABLESPACE"
                       : nullptr;
        case T_CreateTableSpaceStmt:
            return "CREATE TABLESPACE";
        case T_DropTableSpaceStmt:
            return "DROP TABLESPACE";
        case T_AlterSystemStmt:
            return "ALTER SYSTEM";
        case T_DiscardStmt:
            return castNode(DiscardStmt, stmt)->target == DISCARD_ALL ? "DISCARD ALL" : nullptr;
        case T_CreateSubscriptionStmt: {
            // create_slot defaults to connect, which defaults to true
            List* options = castNode(CreateSubscriptionStmt, stmt)->options;
            const bool connect = option_is_true(options, "connect", true);
            return option_is_true(options, "create_slot", connect) ? "CREATE SUBSCRIPTION (creating a slot)" : nullptr;
        }
        case T_AlterSubscriptionStmt: {
            const auto* alter = castNode(AlterSubscriptionStmt, stmt);
            switch (alter->kind) {
                case ALTER_SUBSCRIPTION_REFRESH:
                    return "ALTER SUBSCRIPTION ... REFRESH PUBLICATION";
                case ALTER_SUBSCRIPTION_SET_PUBLICATION:
                case ALTER_SUBSCRIPTION_ADD_PUBLICATION:
                case ALTER_SUBSCRIPTION_DROP_PUBLICATION:
                    return option_is_true(alter->options, "refresh", true)
                               ? "ALTER SUBSCRIPTION ... PUBLICATION (with refresh)"
                               : nullptr;
                case ALTER_SUBSCRIPTION_OPTIONS:  // 17 added the option (the slot's state cannot roll back)
                    return find_option(alter->options, "failover") != nullptr ? "ALTER SUBSCRIPTION ... SET (failover)"
                                                                             : nullptr;
                default:
                    return nullptr;
            }
        }
        case T_DropSubscriptionStmt:
            return "DROP SUBSCRIPTION";  // of one with a replication slot; without (slot_name = NONE) too
        default:
            return nullptr;
    }
}

// REINDEX TABLE/INDEX and CLUSTER of one relation: refused in a transaction block when it is partitioned.
const RangeVar* partitioned_candidate(Node* stmt, const char** what) {
    if (IsA(stmt, ReindexStmt)) {
        const auto* reindex = castNode(ReindexStmt, stmt);
        if (reindex->kind == REINDEX_OBJECT_TABLE) *what = "REINDEX TABLE of a partitioned table";
        if (reindex->kind == REINDEX_OBJECT_INDEX) *what = "REINDEX INDEX of a partitioned index";
        return reindex->relation;
    }
    if (IsA(stmt, ClusterStmt)) {
        *what = "CLUSTER of a partitioned table";
        return castNode(ClusterStmt, stmt)->relation;
    }
    return nullptr;
}

}  // namespace

namespace {
// [first token, end) of the statement at [location, location + length) (length 0: to the end).
std::pair<size_t, size_t> statement_bounds(std::string_view query, int location, int length) {
    const size_t begin = location < 0 ? 0 : std::min(query.size(), static_cast<size_t>(location));
    const size_t end = length <= 0 ? query.size() : std::min(query.size(), begin + static_cast<size_t>(length));
    return {skip_blanks_and_comments(query, begin, end), end};
}
}  // namespace

std::string statement_slice(const std::string& query, int location, int length) {
    const auto [first, end] = statement_bounds(query, location, length);
    return query.substr(first, end - first);
}

std::string statement_slice(const char* query, int location, int length) {
    return std::string(statement_view(query, location, length));
}

int LineCounter::at(size_t offset) {
    offset = std::min(offset, text_.size());
    if (offset < pos_) {  // asked backwards: start again (not in the usual order)
        pos_ = 0;
        line_ = 1;
    }
    line_ += static_cast<int>(std::count(text_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                         text_.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
    pos_ = offset;
    return line_;
}

std::string_view statement_view(const char* query, int location, int length) {
    const char* start = query + (location < 0 ? 0 : location);
    const std::string_view span =
        length > 0 ? std::string_view(start, static_cast<size_t>(length)) : std::string_view(start);
    return span.substr(skip_blanks_and_comments(span, 0, span.size()));
}

int line_at_byte(const std::string& text, size_t offset) {
    offset = std::min(offset, text.size());
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

size_t byte_of_char_position(const std::string& text, size_t start_byte, int char_position) {
    size_t pos = start_byte;
    for (int chars = 1; chars < char_position && pos < text.size(); ++chars) {
        ++pos;  // skip UTF-8 continuation bytes (10xxxxxx) to land on the next character
        while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
    }
    return std::min(pos, text.size());
}

std::vector<Statement> split_script(const std::string& script, std::vector<Node*>* nodes) {
    const char* source = script.c_str();
    List* parsed = pg::call_isolated([source] { return raw_parser(source, RAW_PARSE_DEFAULT); });

    std::vector<RawSpan> spans;
    spans.reserve(static_cast<size_t>(list_length(parsed)));
    ListCell* cell = nullptr;
    foreach (cell, parsed) {
        pg::check_for_interrupts();
        const auto* raw = static_cast<RawStmt*>(lfirst(cell));
        const char* partitioned_what = nullptr;
        const RangeVar* partitioned = partitioned_candidate(raw->stmt, &partitioned_what);
        spans.push_back(RawSpan{raw->stmt_location, raw->stmt_len, static_cast<int>(nodeTag(raw->stmt)),
                                IsA(raw->stmt, TransactionStmt), needs_no_transaction(raw->stmt), partitioned,
                                partitioned_what});
        if (nodes != nullptr) nodes->push_back(raw->stmt);
    }

    std::vector<Statement> statements;
    statements.reserve(spans.size());
    LineCounter lines(script);  // statements come in order: the script is read once for their lines
    for (const RawSpan& span : spans) {
        pg::check_for_interrupts();
        const auto [first, end] = statement_bounds(script, span.location, span.length);
        Statement st;
        st.text = script.substr(first, end - first);
        st.offset = first;
        st.line = lines.at(first);
        st.transaction_control = span.transaction_control;
        st.kind = span.kind;
        if (span.needs_no_transaction != nullptr) st.needs_no_transaction = span.needs_no_transaction;
        if (span.partitioned != nullptr && span.needs_no_transaction == nullptr) {
            if (span.partitioned->schemaname != nullptr) st.partition_schema = span.partitioned->schemaname;
            st.partition_relation = span.partitioned->relname;
            st.partition_what = span.partitioned_what;
        }
        statements.push_back(std::move(st));
    }
    return statements;
}

std::string needs_no_transaction_now(const Statement& st) {
    if (!st.needs_no_transaction.empty() || st.partition_relation.empty()) return st.needs_no_transaction;
    const char* schema = st.partition_schema.empty() ? nullptr : st.partition_schema.c_str();
    const char* relation = st.partition_relation.c_str();
    const char kind = pg::call([schema, relation] {
        // Not locked: this only decides whether to refuse early; PostgreSQL checks again when it runs.
        const Oid oid =
            RangeVarGetRelid(makeRangeVar(const_cast<char*>(schema), const_cast<char*>(relation), -1), NoLock, true);
        return OidIsValid(oid) ? get_rel_relkind(oid) : '\0';
    });
    if (kind == RELKIND_PARTITIONED_TABLE || kind == RELKIND_PARTITIONED_INDEX) return st.partition_what;
    return std::string();
}

bool runs_nothing(const std::string& script) { return split_script(script).empty(); }

bool same_statements(const std::string& a, const std::string& b) {
    List* left = nullptr;
    List* right = nullptr;
    try {
        const char* a_text = a.c_str();
        const char* b_text = b.c_str();
        left = pg::call_isolated([a_text] { return raw_parser(a_text, RAW_PARSE_DEFAULT); });
        right = pg::call_isolated([b_text] { return raw_parser(b_text, RAW_PARSE_DEFAULT); });
    } catch (const pg::PgError& e) {
        if (pg::is_interrupt(e)) throw;
        return false;  // a script that does not parse is not the same as one that does
    }
    if (list_length(left) != list_length(right)) return false;
    // Compare RawStmt->stmt, not the RawStmt: equal() compares stmt_len, which whitespace changes.
    return pg::call([left, right] {
        ListCell* l = nullptr;
        ListCell* r = nullptr;
        forboth(l, left, r, right) {
            CHECK_FOR_INTERRUPTS();
            if (!equal(lfirst_node(RawStmt, l)->stmt, lfirst_node(RawStmt, r)->stmt)) return false;
        }
        return true;
    });
}

}  // namespace pgmig
