// The ledger lock: the advisory lock every writer of the ledger holds (pg_advisory_xact_lock(key) in
// the extension, pg_advisory_lock(key) for the client's runs that span transactions). One key, used by
// the extension, the client and the tests that hold it.
#pragma once

#include <cstdint>

namespace pgmig::common {

// "pgmig" in ASCII (0x70 0x67 0x6d 0x69 0x67): 482771560807.
inline constexpr std::int64_t kLedgerLockKey = 0x70676d6967;

// The key as pg_locks shows a bigint advisory lock: classid = its high 32 bits, objid = its low 32 bits
// (objsubid = 1).
inline constexpr std::uint32_t kLedgerLockClassid = static_cast<std::uint32_t>(kLedgerLockKey >> 32);
inline constexpr std::uint32_t kLedgerLockObjid = static_cast<std::uint32_t>(kLedgerLockKey & 0xffffffff);

}  // namespace pgmig::common
