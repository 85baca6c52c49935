// The list of folder readers (see formats.hpp): one line per tool whose folders pgmig reads.
#include "client/ledger/formats/comment_readers.hpp"
#include "client/ledger/formats/formats.hpp"

namespace pgmig::client::formats {

FolderReader diesel_reader();   // diesel.cpp
FolderReader prisma_reader();   // prisma.cpp
FolderReader drizzle_reader();  // drizzle.cpp
FolderReader sqitch_reader();   // sqitch.cpp

const std::vector<FolderReader>& folder_readers() {
    static const std::vector<FolderReader> readers = {
        goose_reader(),           dbmate_reader(), sql_migrate_reader(),
        node_pg_migrate_reader(), popx_reader(),   liquibase_reader(),
        diesel_reader(),
        prisma_reader(),
        drizzle_reader(),
        sqitch_reader(),
    };
    return readers;
}

}  // namespace pgmig::client::formats
