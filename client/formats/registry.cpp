// The list of folder readers (see formats.hpp): one line per tool whose folders pgmig reads.
#include "client/formats/formats.hpp"

namespace pgmig::client::formats {

const std::vector<FolderReader>& folder_readers() {
    static const std::vector<FolderReader> readers = {};
    return readers;
}

}  // namespace pgmig::client::formats
