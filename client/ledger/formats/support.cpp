// Helpers shared by the comment-directive readers (see support.hpp).
#include "client/ledger/formats/support.hpp"

#include "common/version.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <utility>
#include <system_error>

namespace pgmig::client::formats {

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
}  // namespace

std::vector<Line> split_lines(std::string_view content) {
    std::vector<Line> lines;
    std::size_t pos = 0;
    int number = 0;
    while (pos < content.size()) {
        const std::size_t nl = content.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? content.size() : nl + 1;
        std::string_view text = content.substr(pos, (nl == std::string_view::npos ? content.size() : nl) - pos);
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        lines.push_back({text, ++number, pos, end});
        pos = end;
    }
    return lines;
}

std::string_view trim_left(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    return s;
}

std::string_view trim(std::string_view s) {
    s = trim_left(s);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && to_lower(s.substr(0, prefix.size())) == to_lower(prefix);
}

bool is_blank_or_comment(std::string_view line) {
    const std::string_view t = trim(line);
    return t.empty() || t.starts_with("--");
}

bool is_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string slice(std::string_view content, const std::vector<Line>& lines, std::size_t first, std::size_t last) {
    if (first >= last || first >= lines.size()) return {};
    last = std::min(last, lines.size());
    return std::string(content.substr(lines[first].begin, lines[last - 1].end - lines[first].begin));
}

std::string slice_blanking(std::string_view content, const std::vector<Line>& lines, std::size_t first,
                           std::size_t last, const std::vector<bool>& blank) {
    std::string out;
    last = std::min(last, lines.size());
    for (std::size_t i = first; i < last; ++i) {
        const Line& l = lines[i];
        if (i < blank.size() && blank[i]) {
            out.append(content.substr(l.begin + l.text.size(), l.end - l.begin - l.text.size()));  // the ending
        } else {
            out.append(content.substr(l.begin, l.end - l.begin));
        }
    }
    return out;
}

MigrationFileError error_at(const std::filesystem::path& file, int line, const std::string& what,
                            const std::string& advice, const std::string& detail) {
    return MigrationFileError(file.string(), what + " (line " + std::to_string(line) + ")" + detail, advice,
                              FileProblem::grammar, line);
}

void refuse_pgmig_sections(const std::filesystem::path& file, const std::vector<Line>& lines, std::string_view tool,
                           std::string_view tool_marker) {
    for (const Line& l : lines) {
        std::string section;
        if (is_section_marker(l.text, section)) {
            throw error_at(file, l.number,
                           "pgmig's own -- pgmig:" + section + " marker in a folder read as " + std::string(tool) +
                               " (" + std::string(tool_marker) + "): a folder holds the migrations of one format",
                           "write this migration with " + std::string(tool) +
                               "'s markers, or move it to a pgmig folder (format = \"pgmig\")");
        }
    }
}

std::vector<Directive> pgmig_directives(const std::vector<Line>& lines, std::size_t first, std::size_t last) {
    std::vector<Directive> out;
    last = std::min(last, lines.size());
    for (std::size_t i = first; i < last; ++i) {
        Directive d;
        if (parse_directive(lines[i].text, d.key, d.value)) {
            d.line = lines[i].number;
            out.push_back(std::move(d));
        }
    }
    return out;
}

std::string leading_digits(std::string_view name) {
    std::size_t n = 0;
    while (n < name.size() && name[n] >= '0' && name[n] <= '9') ++n;
    return std::string(name.substr(0, n));
}

MigrationFile digits_named_migration(const std::filesystem::path& path, std::string_view content, std::string_view tool,
                                     const std::string& advice) {
    MigrationFile m;
    m.path = path;
    m.file_name = path.filename().string();
    check_file_bytes(path.string(), content);
    m.version = leading_digits(m.file_name);
    if (m.version.empty()) {
        throw MigrationFileError(
            path.string(), "not a " + std::string(tool) + " migration name: it does not start with digits", advice);
    }
    return m;
}

std::string noop_down(std::string_view tool, const std::optional<std::string>& text) {
    std::string out = text.value_or("");
    if (!out.empty() && out.back() != '\n') out += '\n';
    return out + "SELECT; -- nothing to undo: " + std::string(tool) + " rolls this migration back by running nothing\n";
}

void down_or_noop(MigrationFile& m, std::string_view tool) {
    if (!m.down_sql || !has_statements(*m.down_sql)) m.down_sql = noop_down(tool, m.down_sql);
}

void set_options(MigrationFile& m, bool transactional) {
    m.options = directive_options(m.path.string(), m.directives);
    if (!transactional) m.options["transactional"] = false;
}

std::string read_checked(const std::filesystem::path& path) {
    std::string content = read_file(path);
    check_file_bytes(path.string(), content);
    return content;
}

namespace {

struct Entry {
    std::string name;
    std::filesystem::path path;
    bool regular = false;
};

// Every entry of `dir`, sorted by name.
std::vector<Entry> list_folder(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::vector<Entry> out;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) throw MigrationFileError(dir.string(), "cannot read the folder: " + ec.message());
    for (const auto& entry : it) {
        std::error_code type_ec;
        out.push_back({entry.path().filename().string(), entry.path(), entry.is_regular_file(type_ec)});
    }
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return out;
}

std::string read_head_uncached(const std::filesystem::path& path, std::size_t max) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::string buf(max, '\0');
    in.read(buf.data(), static_cast<std::streamsize>(max));
    buf.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    return buf;
}

}  // namespace

struct FolderScan::Cache {
    std::map<std::string, std::vector<Entry>> folders;
    std::map<std::pair<std::string, std::size_t>, std::string> heads;
};

namespace {
thread_local FolderScan::Cache* t_scan = nullptr;
}  // namespace

FolderScan::FolderScan() : previous_(t_scan), cache_(std::make_unique<Cache>()) { t_scan = cache_.get(); }

FolderScan::~FolderScan() { t_scan = previous_; }

std::string read_head(const std::filesystem::path& path, std::size_t max) {
    if (t_scan == nullptr) return read_head_uncached(path, max);
    auto key = std::make_pair(path.string(), max);
    const auto found = t_scan->heads.find(key);
    if (found != t_scan->heads.end()) return found->second;
    return t_scan->heads.emplace(std::move(key), read_head_uncached(path, max)).first->second;
}

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir, std::string_view suffix, bool hidden) {
    std::vector<Entry> listed;
    const std::vector<Entry>* entries = &listed;
    if (t_scan == nullptr) {
        listed = list_folder(dir);
    } else {
        auto found = t_scan->folders.find(dir.string());
        if (found == t_scan->folders.end()) found = t_scan->folders.emplace(dir.string(), list_folder(dir)).first;
        entries = &found->second;
    }
    std::vector<std::filesystem::path> out;
    for (const Entry& e : *entries) {
        if (e.regular && e.name.ends_with(suffix) && (hidden || !e.name.starts_with("."))) out.push_back(e.path);
    }
    return out;
}

std::string safe_name(std::string_view name) {
    std::string out;
    for (const char c : name) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        out += ok ? c : '_';
        if (out.size() == 200) break;
    }
    if (out.empty()) out = "migration";
    return out;
}

void require_tool_order(const std::vector<MigrationFile>& in_tool_order, std::string_view tool,
                        std::string_view tool_rule) {
    for (std::size_t i = 1; i < in_tool_order.size(); ++i) {
        const MigrationFile& a = in_tool_order[i - 1];
        const MigrationFile& b = in_tool_order[i];
        if (common::version_problem(a.version) || common::version_problem(b.version)) continue;  // order_and_check
        if (common::compare_versions(a.version, b.version) > 0) {
            throw MigrationFileError(
                b.path.string(),
                std::string(tool) + " applies " + a.file_name + " before " + b.file_name + " (" +
                    std::string(tool_rule) + "), but their versions " + a.version + " and " + b.version +
                    " compare the other way as numbers",
                "pgmig applies migrations by version: the two orders must agree (the versions of a folder usually "
                "have the same number of digits)");
        }
    }
}

void assign_versions(std::vector<MigrationFile>& in_tool_order, const std::vector<std::string>& bases) {
    std::size_t i = 0;
    while (i < in_tool_order.size()) {
        std::size_t j = i + 1;
        while (j < in_tool_order.size() && common::compare_versions(bases[j], bases[i]) == 0) ++j;
        for (std::size_t k = i; k < j; ++k) {
            in_tool_order[k].version = j - i == 1 ? bases[k] : bases[k] + "." + std::to_string(k - i + 1);
        }
        i = j;
    }
}

}  // namespace pgmig::client::formats
