// The lint rules and the waivers that name them (`-- pgmig:allow RULE[, RULE] [-- reason]`, the `allow`
// option): one list of rule ids and one way to read and check a waiver, for the extension's lint and the
// client's migration files alike.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmig::common {

enum class LintSeverity { advice = 0, warning = 1, error = 2 };

struct LintRule {
    const char* id;         // stable kebab-case id, documented in docs/reference.md: never rename
    LintSeverity severity;  // the default; a few rules lower or raise it case by case (documented)
};

// The rule with this id (syntax-error included), or nullptr.
const LintRule* find_lint_rule(std::string_view id);

// A waiver that cannot be accepted: the extension raises it as PM016, the client as a bad migration file
// (exit code 3). message says what and where, detail the facts, hint what to do.
class InvalidWaiver : public std::runtime_error {
  public:
    InvalidWaiver(std::string message, std::string detail, std::string hint)
        : std::runtime_error(message),
          message_(std::move(message)),
          detail_(std::move(detail)),
          hint_(std::move(hint)) {}
    const std::string& message() const noexcept { return message_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }

  private:
    std::string message_;
    std::string detail_;
    std::string hint_;
};

// A rule id a waiver names: known and waivable (syntax-error is not), or InvalidWaiver. `where` says
// where it was named, for the message ("-- pgmig:allow at line 3", "in the allow option").
void check_waivable(std::string_view id, std::string_view where);

constexpr std::string_view kWaiverMarker = "pgmig:allow";

// The rest of a `--` comment that is a waiver: `body` is the comment after its "--"; when it begins
// (after blanks) with "pgmig:allow", what follows that, else nothing.
std::optional<std::string_view> waiver_rest(std::string_view body);

// The rules of a waiver, from `rest`, the text after "pgmig:allow": a blank, then waiver_list. Throws
// InvalidWaiver when anything but a blank follows "pgmig:allow" directly.
std::vector<std::string> waiver_rules(std::string_view rest, std::string_view where);

// The rules a waiver lists: rule ids separated by commas and/or blanks, up to a further "--" that starts
// a free reason. Throws InvalidWaiver when it names no rule, when the list has an empty item (",," or a
// comma at either end), or when a rule is not waivable (check_waivable). `where` as for check_waivable.
std::vector<std::string> waiver_list(std::string_view list, std::string_view where);

}  // namespace pgmig::common
