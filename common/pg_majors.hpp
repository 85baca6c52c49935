// The PostgreSQL major versions pgmig supports, written once: the extension's build refuses the others
// (extension/pg/compat.hpp), `pgmig health` says whether the server is one of those tested
// (client/ops/health.cpp), and docs/install.md lists them. Tested: each has its own run in
// scripts/test-all. 16 builds but is not tested (Debian's archive has no PostgreSQL 16 source).
#pragma once

#include <algorithm>
#include <array>

namespace pgmig::common {

inline constexpr int kOldestMajor = 15;
inline constexpr int kNewestMajor = 18;
inline constexpr std::array<int, 3> kTestedMajors = {15, 17, 18};

constexpr bool is_supported_major(int major) { return major >= kOldestMajor && major <= kNewestMajor; }
constexpr bool is_tested_major(int major) {
    return std::find(kTestedMajors.begin(), kTestedMajors.end(), major) != kTestedMajors.end();
}

}  // namespace pgmig::common
