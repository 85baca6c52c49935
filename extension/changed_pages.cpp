// Reads the LSN of every page of a table (see changed_pages.hpp).
extern "C" {
#include "postgres.h"
#include "access/relation.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/rel.h"
}

#include <fmt/format.h>

#include <cstdio>

#include "changed_pages.hpp"
#include "pg/boundary.hpp"

namespace pgmig::changed_pages {
namespace {

// What the scan found, in memory of the caller's context: plain data, built inside pg::call.
struct Tid {
    uint32 block;
    uint32 offset;
};

struct Scan {
    uint64 system_identifier;
    Oid relfilenode;
    bool logged;
    uint32 blocks;
    uint32 changed;
    bool too_many;
    uint32 ntuples;
    Tid* tuples;
};

Scan* scan(Oid relid, XLogRecPtr since, size_t max_tuples) {
    return pg::call([relid, since, max_tuples] {
        auto* s = static_cast<Scan*>(palloc0(sizeof(Scan)));
        Relation rel = relation_open(relid, AccessShareLock);  // kept to the end of the transaction
        s->system_identifier = GetSystemIdentifier();
        s->relfilenode = rel->rd_rel->relfilenode;
        s->logged = RelationNeedsWAL(rel);
        s->blocks = RelationGetNumberOfBlocks(rel);
        uint32 capacity = 0;
        for (BlockNumber b = 0; b < s->blocks; ++b) {
            CHECK_FOR_INTERRUPTS();
            Buffer buf = ReadBufferExtended(rel, MAIN_FORKNUM, b, RBM_NORMAL, nullptr);
            // A pin is enough to read the LSN (the header's spinlock is taken where hint bits may
            // change it); the line pointers of a changed page are read under the content lock.
            if (XLogRecPtrIsInvalid(since) || BufferGetLSNAtomic(buf) > since) {
                ++s->changed;
                LockBuffer(buf, BUFFER_LOCK_SHARE);
                const OffsetNumber last = PageGetMaxOffsetNumber(BufferGetPage(buf));
                LockBuffer(buf, BUFFER_LOCK_UNLOCK);
                if (s->ntuples + last > max_tuples) s->too_many = true;
                if (!s->too_many) {
                    if (s->ntuples + last > capacity) {
                        capacity = Max(capacity * 2, s->ntuples + last);
                        s->tuples = static_cast<Tid*>(s->tuples ? repalloc(s->tuples, capacity * sizeof(Tid))
                                                                : palloc(capacity * sizeof(Tid)));
                    }
                    for (OffsetNumber o = FirstOffsetNumber; o <= last; ++o) {
                        s->tuples[s->ntuples++] = Tid{b, o};
                    }
                }
            }
            ReleaseBuffer(buf);
        }
        relation_close(rel, NoLock);
        return s;
    });
}

}  // namespace

Pages since(Oid rel, XLogRecPtr since, size_t max_tuples) {
    const Scan* s = scan(rel, since, max_tuples);
    Pages p;
    p.storage = fmt::format("{}/{}", s->system_identifier, s->relfilenode);
    p.logged = s->logged;
    p.blocks = s->blocks;
    p.changed = s->changed;
    p.too_many = s->too_many;
    p.tuples = "{";
    for (uint32 i = 0; i < s->ntuples; ++i) {
        p.tuples += fmt::format("{}\"({},{})\"", i ? "," : "", s->tuples[i].block, s->tuples[i].offset);
    }
    p.tuples += "}";
    return p;
}

Storage storage_of(Oid rel) {
    struct Found {
        uint64 system_identifier;
        Oid relfilenode;
        bool logged;
    };
    const Found f = pg::call([rel] {
        Relation r = relation_open(rel, AccessShareLock);  // kept to the end of the transaction
        const Found found{GetSystemIdentifier(), r->rd_rel->relfilenode, RelationNeedsWAL(r)};
        relation_close(r, NoLock);
        return found;
    });
    return {fmt::format("{}/{}", f.system_identifier, f.relfilenode), f.logged};
}

XLogRecPtr wal_end() {
    return pg::call([] { return GetXLogInsertRecPtr(); });
}

std::string lsn_text(XLogRecPtr lsn) {
    return fmt::format("{:X}/{:X}", static_cast<uint32>(lsn >> 32), static_cast<uint32>(lsn));
}

XLogRecPtr parse_lsn(const std::string& text) {
    unsigned int hi = 0;
    unsigned int lo = 0;
    int end = 0;
    if (std::sscanf(text.c_str(), "%X/%X%n", &hi, &lo, &end) != 2 || static_cast<size_t>(end) != text.size()) {
        return InvalidXLogRecPtr;
    }
    return (static_cast<XLogRecPtr>(hi) << 32) | lo;
}

}  // namespace pgmig::changed_pages
