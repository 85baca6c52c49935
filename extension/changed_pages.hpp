// Which pages of a table changed since a point in the WAL: the ledger's tamper check verifies the
// rows of those pages only, instead of hashing every stored script of a long history.
//
// Every change of a row of a WAL-logged table is WAL-logged, and sets the LSN of the page the row is
// on to the end of that WAL record; a page whose LSN is not beyond a point of the WAL has not changed
// since that point, as long as it is still the same file (the relation's storage: a rewrite, a
// restore or another cluster start a new one) and the table is WAL-logged (an unlogged table, or one
// whose file was created in the current transaction under wal_level = minimal, changes pages without
// WAL). Reading the LSNs costs one buffer pin per page, no tuple is read.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/xlogdefs.h"
}

#include <string>

namespace pgmig::changed_pages {

struct Pages {
    std::string storage;    // "<system identifier>/<relfilenode>": the files the pages are in now
    bool logged = false;    // every change of a page advances its LSN
    uint32 blocks = 0;      // pages read
    uint32 changed = 0;     // pages whose LSN is beyond `since`
    bool too_many = false;  // more changed line pointers than `max_tuples`: `tuples` is incomplete
    std::string tuples;     // the line pointers of the changed pages, a tid[] literal: {"(0,1)",...}
};

// The pages of `rel` changed since `since` (every page, with InvalidXLogRecPtr), listing the line
// pointers of at most `max_tuples` (past that, too_many).
Pages since(Oid rel, XLogRecPtr since, size_t max_tuples);

// The storage of `rel` and whether its changes are WAL-logged (Pages::storage and Pages::logged), without
// reading its pages.
struct Storage {
    std::string storage;
    bool logged = false;
};
Storage storage_of(Oid rel);

// The end of the WAL written so far: a page changed after this call has a greater LSN.
XLogRecPtr wal_end();

std::string lsn_text(XLogRecPtr lsn);           // "16/B374D848", as pg_lsn prints it
XLogRecPtr parse_lsn(const std::string& text);  // InvalidXLogRecPtr when malformed

}  // namespace pgmig::changed_pages
