# examples/ci/github-actions.yml: it parses, runs on pull requests, uploads the SARIF that validate writes,
# and every `pgmig ...` command it runs exists, with the options it gives, in the built pgmig.
# Sourced by run.sh (see lib.sh for the helpers).

if ci_why=$(python3 - "$root/examples/ci/github-actions.yml" "$bin" <<'PY' 2>&1
import re, shlex, subprocess, sys
import yaml

path, pgmig = sys.argv[1], sys.argv[2]
wf = yaml.safe_load(open(path))
triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as true
assert "pull_request" in triggers, triggers
steps = [s for job in wf["jobs"].values() for s in job["steps"]]
uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
assert "actions/checkout" in uses and "github/codeql-action/upload-sarif" in uses, uses
runs = "\n".join(s.get("run", "") for s in steps)
assert "scripts/install-deps" in runs, "the workflow must install the dependencies with scripts/install-deps"
sarif = [s["with"]["sarif_file"] for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif")][0]
assert re.search(r"--format=sarif\s*>\s*" + re.escape(sarif), runs), "validate --format=sarif must write " + sarif

top = subprocess.run([pgmig, "--help"], capture_output=True, text=True)
assert top.returncode == 0, top.stderr
commands = []
for line in runs.splitlines():
    # `pgmig ...` at the start of a command (also inside $( ... )), up to a shell operator.
    for m in re.finditer(r"(?:^|[\s;&|(])pgmig\s+([^;&|)>]*)", line):
        words = shlex.split(m.group(1))
        path_words = []
        for w in words:
            if w.startswith("-") or "$" in w:
                break
            path_words.append(w)
        options = sorted({w.split("=")[0] for w in words if w.startswith("--")})
        commands.append((path_words, options))
required = {"validate", "test", "plan", "local"}
assert required <= {c[0][0] for c in commands}, commands
for path_words, options in commands:
    assert re.search(r"^\s+" + re.escape(path_words[0]) + r"\b", top.stdout, re.M), \
        f"pgmig --help lists no command {path_words[0]}"
    # An option may belong to the command or to a parent (pgmig local --dir start).
    helps = ""
    for n in range(1, len(path_words) + 1):
        h = subprocess.run([pgmig, *path_words[:n], "--help"], capture_output=True, text=True)
        assert h.returncode == 0, f"pgmig {' '.join(path_words[:n])} --help failed: {h.stderr}"
        helps += h.stdout
    for o in options:
        assert re.search(re.escape(o) + r"\b", helps), f"pgmig {' '.join(path_words)} has no option {o}"
print(f"{len(commands)} commands checked")
PY
); then
    pass "examples/ci/github-actions.yml: $ci_why"
else
    fail "examples/ci/github-actions.yml" "$(tail -c 400 <<<"$ci_why")"
fi
