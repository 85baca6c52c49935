// Values across the SQL boundary (see values.hpp).
#include "pg/values.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

#include <fmt/format.h>

#include "pg/boundary.hpp"

namespace pgmig::pg {

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    const char* s = call([fcinfo, n] { return text_to_cstring(PG_GETARG_TEXT_PP(n)); });
    return std::string(s);
}

std::string required_text_arg(FunctionCallInfo fcinfo, int n, const char* what) {
    auto v = text_arg(fcinfo, n);
    if (!v) {
        throw Error(sqlstate::invalid_argument, fmt::format("{} must not be NULL", what), {},
                    fmt::format("pass the {}", what));
    }
    return *v;
}

std::optional<std::string> arg_as_text(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    const char* s = call([fcinfo, n] {
        Oid output = InvalidOid;
        bool varlena = false;
        getTypeOutputInfo(get_fn_expr_argtype(fcinfo->flinfo, n), &output, &varlena);
        return OidOutputFunctionCall(output, PG_GETARG_DATUM(n));
    });
    return std::string(s);
}

Datum text_datum(const std::string& s) {
    const char* p = s.c_str();
    const size_t size = s.size();
    MemoryContext target = result_context();
    return call([p, size, target] {
        MemoryContext old = MemoryContextSwitchTo(target);
        text* t = cstring_to_text_with_len(p, static_cast<int>(size));
        MemoryContextSwitchTo(old);
        return PointerGetDatum(t);
    });
}

Datum bytea_datum(const std::string& bytes) {
    const char* data = bytes.data();
    const size_t size = bytes.size();
    MemoryContext target = result_context();
    return call([data, size, target] {
        auto* out = static_cast<bytea*>(MemoryContextAlloc(target, VARHDRSZ + size));
        SET_VARSIZE(out, VARHDRSZ + size);
        memcpy(VARDATA(out), data, size);
        return PointerGetDatum(out);
    });
}

void return_rows(FunctionCallInfo fcinfo, const std::vector<TextRow>& rows) {
    // The tuplestore lives in the caller's per-query context; rows are built from C++ data.
    call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    TupleDesc desc = rsinfo->setDesc;
    Tuplestorestate* store = rsinfo->setResult;
    AttInMetadata* meta = call([desc] { return TupleDescGetAttInMetadata(desc); });
    std::vector<char*> values;
    for (const TextRow& row : rows) {
        values.clear();
        for (const auto& v : row) values.push_back(v ? const_cast<char*>(v->c_str()) : nullptr);
        char** cells = values.data();
        call([meta, store, cells] { tuplestore_puttuple(store, BuildTupleFromCStrings(meta, cells)); });
    }
}

}  // namespace pgmig::pg
