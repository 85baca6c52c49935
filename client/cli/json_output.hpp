// --json: one JSON document on stdout per command, also when the command fails (with the exit code and the
// error's kind, message and hint), so that a script can always parse what pgmig printed.
//
// How commands take part: client/cli/main.cpp turns it on once the command line is parsed (a --json flag was
// given, or validate --format json) and ends it when the command has ended. From then on, what commands print
// on stdout for people goes to stderr; stdout receives only the JSON document: the command's own (status,
// validate, lint, plan... print it with print_json_document), else the result envelope that main writes from
// the audit context (target, environment, versions) and json_result() (apply, rollback, deploy, backup...).
#pragma once

#include "client/core/errors.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace pgmig::client {

// Sends stdout to stderr from now on, keeping the real stdout for the document.
void json_output_begin();
bool json_output_active();

// A command's own document on stdout (the real one when --json is active); the first one only.
void print_json_document(const nlohmann::json& document);

// One event of a long command (deploy --fleet: one per target and per wave) as one line on stdout, at once.
// A command that prints events makes its final document one line too: the whole stdout is JSON lines.
void print_json_event(const nlohmann::json& event);

// What a command that has no document of its own adds to its envelope's "result" (e.g. the backup's file).
nlohmann::json& json_result();

// The envelope of a command without a document of its own, or of one that failed before printing it:
// {"command", "ok", "exit_code", "target", "environment", "versions", "result", "error": null or
// {"kind", "exit_code", "message", "hint"}}. `error` is null when the command returned its exit code itself.
nlohmann::json json_envelope(const std::string& command, int exit_code, const Error* error);

// Called by main when the command has ended: prints the envelope unless a document was printed.
void json_output_end(const std::string& command, int exit_code, const Error* error);

}  // namespace pgmig::client
