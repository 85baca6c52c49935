// SPI and subtransactions for C++: RAII owners whose destructors never raise.
#pragma once

extern "C" {
#include "postgres.h"
#include "executor/spi.h"
}

#include <optional>
#include <string>
#include <vector>

#include "pg/boundary.hpp"

namespace pgmig::pg {

// A query parameter: its type OID and its text form (nullopt = SQL NULL). Values are passed in
// text form and converted by the type's input function, so C++ never builds Datums by hand.
struct Param {
    Oid type;
    std::optional<std::string> value;
};

// Rows copied out of SPI into C++ strings (nullopt = SQL NULL), so they survive SPI_finish.
struct Rows {
    std::vector<std::vector<std::optional<std::string>>> rows;
    uint64 processed = 0;
};

// One SPI connection for the lifetime of the object.
class Spi {
  public:
    Spi();
    ~Spi();
    Spi(const Spi&) = delete;
    Spi& operator=(const Spi&) = delete;

    // Runs a parameterised internal statement; `expected` is the SPI_OK_* code it must return.
    // Never read-only: in READ COMMITTED every statement takes a fresh snapshot, so what was
    // committed before a lock was granted is seen after it.
    Rows query(const char* sql, const std::vector<Param>& params, int expected);
    // The same with a plan prepared at the first call and kept in `plan` (a static of the caller),
    // for statements on hot paths such as the event triggers.
    Rows query_prepared(SPIPlanPtr& plan, const char* sql, const std::vector<Param>& params, int expected);
    // Runs a migration's statement text as it stands; returns the number of rows it processed.
    uint64 execute(const std::string& sql);

  private:
    static Rows collect(int rc, int expected, const char* sql);  // checks rc, copies SPI_tuptable out
};

// An internal subtransaction: commit() releases it; leaving the scope without commit(), or an
// exception, rolls it back. Memory context and resource owner are restored either way.
class Subtransaction {
  public:
    Subtransaction();
    ~Subtransaction();
    Subtransaction(const Subtransaction&) = delete;
    Subtransaction& operator=(const Subtransaction&) = delete;
    void commit();
    void rollback();

  private:
    MemoryContext context_;
    ResourceOwner owner_;
    bool open_ = true;
};

}  // namespace pgmig::pg
