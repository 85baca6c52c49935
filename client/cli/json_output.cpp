// One JSON document on stdout per command with --json (see json_output.hpp).
#include "client/cli/json_output.hpp"

#include "client/core/audit_log.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace pgmig::client {

namespace {

struct JsonOutputState {
    bool active = false;
    bool printed = false;
    int stdout_fd = -1;  // the real stdout while active
    nlohmann::json result = nlohmann::json::object();
    bool lines = false;  // events were printed: the final document is one line too (a JSON-lines stream)
};

JsonOutputState& state() {
    static JsonOutputState s;
    return s;
}

void write_all(int fd, const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // a closed pipe: nobody reads the document
        }
        done += static_cast<size_t>(n);
    }
}

std::string dumped(const nlohmann::json& document) {
    return document.dump(state().lines ? -1 : 2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// What to do next: the error's hint, else its next step (also in the message); null when it has neither.
nlohmann::json next_step_of(const Error& error) {
    const std::string& text = error.hint().empty() ? error.next_step() : error.hint();
    return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(redact_message(one_line(text)));
}

}  // namespace

void json_output_begin() {
    JsonOutputState& s = state();
    if (s.active) return;
    std::fflush(stdout);
    s.stdout_fd = ::dup(STDOUT_FILENO);
    if (s.stdout_fd < 0) return;  // no spare descriptor: documents go to stdout as it is
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
    s.active = true;
}

bool json_output_active() { return state().active; }

void print_json_document(const nlohmann::json& document) {
    JsonOutputState& s = state();
    if (s.printed) return;
    s.printed = true;
    if (s.active) {
        std::fflush(stdout);
        write_all(s.stdout_fd, dumped(document));
    } else {
        std::fputs(dumped(document).c_str(), stdout);
        std::fflush(stdout);
    }
}

void print_json_event(const nlohmann::json& event) {
    JsonOutputState& s = state();
    s.lines = true;
    const std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fflush(stdout);
    if (s.active) {
        write_all(s.stdout_fd, line);
    } else {
        std::fputs(line.c_str(), stdout);
        std::fflush(stdout);
    }
}

nlohmann::json& json_result() { return state().result; }

nlohmann::json json_envelope(const std::string& command, int exit_code, const Error* error) {
    const AuditContext& context = audit_context();
    nlohmann::json out;
    out["command"] = command;
    out["ok"] = exit_code == kExitOk;
    out["exit_code"] = exit_code;
    out["target"] = context.target ? nlohmann::json(*context.target) : nlohmann::json(nullptr);
    out["environment"] = context.environment.empty() ? nlohmann::json(nullptr) : nlohmann::json(context.environment);
    out["versions"] = context.versions;
    out["result"] = state().result;
    if (exit_code == kExitOk) {
        out["error"] = nullptr;
    } else if (error != nullptr) {
        out["error"] = {{"kind", std::string(kind_name(error->kind()))},
                        {"exit_code", error->exit_code()},
                        {"message", redact_message(error->line())},
                        {"hint", next_step_of(*error)}};
    } else {
        // The command returned its exit code itself: the kind and meaning of that code.
        nlohmann::json e = {{"kind", "internal"}, {"exit_code", exit_code}, {"message", ""}, {"hint", nullptr}};
        for (const auto& info : kErrorKinds) {
            if (info.exit_code == exit_code) {
                e["kind"] = std::string(kind_name(info.kind));
                e["message"] = std::string(info.meaning);
            }
        }
        out["error"] = std::move(e);
    }
    return out;
}

void json_output_end(const std::string& command, int exit_code, const Error* error) {
    if (!state().active || state().printed) return;
    print_json_document(json_envelope(command, exit_code, error));
}

}  // namespace pgmig::client
