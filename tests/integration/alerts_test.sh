# Alerts and drift watch: the real pgmig against loopback receivers (an HTTP receiver that checks the HMAC
# signature, an SMTP sink with AUTH) and the throwaway cluster. Sourced by run.sh (see lib.sh).

alerts_dir="$work/alerts"
alerts_proj="$alerts_dir/project"
mkdir -p "$alerts_proj"
alerts_recv="$root/tests/integration/alert_receivers.py"
alerts_pids=()
alerts_old_pwd=$PWD
trap 'for p in "${alerts_pids[@]}"; do kill "$p" 2>/dev/null; done; cleanup' EXIT

# The test's secrets: none of them may appear in any output, log or file.
alert_secret="whsec-$$-$RANDOM-k7Qz"
smtp_password="smtp-pw-$$-$RANDOM-x9Lm"
slack_path="services/T0SEC$$/B0SEC/slacktok$RANDOM"

# receiver NAME ARGS...: starts a receiver; sets port_NAME.
receiver() {
    local name=$1
    shift
    python3 "$alerts_recv" "$@" --record "$alerts_dir/$name.jsonl" --port-file "$alerts_dir/$name.port" \
        >"$alerts_dir/$name.log" 2>&1 &
    alerts_pids+=($!)
    local i
    for i in $(seq 100); do [ -s "$alerts_dir/$name.port" ] && break; sleep 0.1; done
    printf -v "port_$name" "%s" "$(cat "$alerts_dir/$name.port" 2>/dev/null)"
    touch "$alerts_dir/$name.jsonl"
}
RECEIVER_SECRET=$alert_secret receiver hook http --mode ok
RECEIVER_SECRET=$alert_secret receiver flaky http --mode fail:2
receiver hang http --mode hang
receiver slack http --mode ok
receiver reject http --mode status:400
RECEIVER_SECRET=$alert_secret receiver drift http --mode ok
RECEIVER_SMTP_PASSWORD=$smtp_password receiver mail smtp --user pgmig-test
receiver mailopen smtp
# A sink that offers STARTTLS with a certificate no CA store trusts.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$alerts_dir/tls.key" -out "$alerts_dir/tls.crt" -days 1 \
    -subj /CN=127.0.0.1 >/dev/null 2>&1
receiver mailstarttls smtp --tls-cert "$alerts_dir/tls.crt" --tls-key "$alerts_dir/tls.key"
if [ -n "$port_hook" ] && [ -n "$port_mail" ] && [ -n "$port_mailopen" ] && [ -n "$port_drift" ]; then
    pass "alerts: receivers started"
else
    fail "alerts: receivers started" "$(cat "$alerts_dir"/*.log)"
fi
lines() { wc -l <"$alerts_dir/$1.jsonl" | tr -d ' '; }
# last NAME PYTHON-EXPR: evaluates EXPR with r = the last record of receiver NAME; prints the result.
last() { python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])][-1]; print($2)" "$alerts_dir/$1.jsonl" 2>&1; }

newdb alerts_db
cat >"$alerts_proj/pgmig.toml" <<EOF
[environments.staging]
dbname = "dbname=$alerts_db"
alerts = ["hook", "mail"]

[alerts.hook]
type = "webhook"
url = "http://127.0.0.1:$port_hook/hook"
secret_env = "IT_HOOK_SECRET"
timeout = "3s"
retries = 2
retry_wait = "100ms"

[alerts.flaky]
type = "webhook"
url = "http://127.0.0.1:$port_flaky/flaky"
secret_env = "IT_HOOK_SECRET"
timeout = "3s"
retries = 2
retry_wait = "100ms"

[alerts.hang]
type = "webhook"
url = "http://127.0.0.1:$port_hang/hang"
timeout = "1s"
retries = 1
retry_wait = "200ms"

[alerts.reject]
type = "webhook"
url = "http://127.0.0.1:$port_reject/reject"
retries = 2
retry_wait = "100ms"

[alerts.slack]
type = "webhook"
url_env = "IT_SLACK_URL"
format = "slack"
retries = 0

[alerts.slackdown]
type = "webhook"
url_env = "IT_SLACK_DOWN_URL"
format = "slack"
timeout = "1s"
retries = 1
retry_wait = "100ms"

[alerts.deploys]
type = "webhook"
url = "http://127.0.0.1:$port_hook/deploys"
secret_env = "IT_HOOK_SECRET"
events = ["deploy_failed"]

[alerts.drift]
type = "webhook"
url = "http://127.0.0.1:$port_drift/drift"
secret_env = "IT_HOOK_SECRET"
events = ["drift_detected"]

[alerts.rejectdrift]
type = "webhook"
url = "http://127.0.0.1:$port_reject/drift"
retries = 0

[alerts.mail]
type = "email"
smtp = "smtp://127.0.0.1:$port_mail"
from = "pgmig@example.com"
to = ["dba@example.com", "ops@example.com"]
username = "pgmig-test"
password_env = "IT_SMTP_PASSWORD"
starttls = "never"
timeout = "3s"

[alerts.mailauthauto]
type = "email"
smtp = "smtp://127.0.0.1:$port_mail"
from = "pgmig@example.com"
to = ["dba@example.com"]
username = "pgmig-test"
password_env = "IT_SMTP_PASSWORD"
retries = 2
retry_wait = "100ms"

[alerts.mailopen]
type = "email"
smtp = "smtp://127.0.0.1:$port_mailopen"
from = "pgmig@example.com"
to = ["dba@example.com"]
starttls = "never"

[alerts.mailtls]
type = "email"
smtp = "smtp://127.0.0.1:$port_mailopen"
from = "pgmig@example.com"
to = ["dba@example.com"]
starttls = "always"
retries = 2
retry_wait = "100ms"

[alerts.mailstarttls]
type = "email"
smtp = "smtp://127.0.0.1:$port_mailstarttls"
from = "pgmig@example.com"
to = ["dba@example.com"]
starttls = "auto"
retries = 2
retry_wait = "100ms"

[alerts.mailbadpw]
type = "email"
smtp = "smtp://127.0.0.1:$port_mail"
from = "pgmig@example.com"
to = ["dba@example.com"]
username = "pgmig-test"
password_env = "IT_SMTP_BADPW"
starttls = "never"
retries = 2
retry_wait = "100ms"
EOF
cd "$alerts_proj" || fail "alerts: cd" "$alerts_proj"
export IT_HOOK_SECRET=$alert_secret IT_SMTP_PASSWORD=$smtp_password IT_SMTP_BADPW="wrong-$RANDOM"
export IT_SLACK_URL="http://127.0.0.1:$port_slack/$slack_path" IT_SLACK_DOWN_URL="http://127.0.0.1:1/$slack_path"
alerts_log() { cat "$work/out" "$work/err" >>"$alerts_dir/pgmig-output.log"; }

# --- pgmig alert test: the environment's targets, signed webhook and mail with AUTH ------------------
run alert test --env staging
alerts_log
expect "alert test --env: delivered to webhook and mail" 0 "alert 'hook' (webhook): delivered on attempt 1" \
    "alert 'mail' (email): delivered on attempt 1" "2 of 2 alert targets delivered"
want_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$root/extension/pgmig.control")
check=$(last hook "r['signature_ok'] and r['timestamp_fresh'] and r['content_type']=='application/json' and r['user_agent']=='pgmig/$want_version' and r['body']['event']=='test' and r['body']['environment']=='staging' and r['body']['database']['dbname']=='$alerts_db' and r['body']['extra']['test'] is True and 'summary' in r['body']")
if [ "$(lines hook)" = 1 ] && [ "$check" = True ]; then pass "webhook: HMAC verified by the receiver, payload fields"; else fail "webhook: HMAC verified by the receiver, payload fields" "lines=$(lines hook) $check"; fi
check=$(last mail "r['auth_ok'] and r['auth_user']=='pgmig-test' and r['mail_from']=='<pgmig@example.com>' and r['rcpt']==['<dba@example.com>','<ops@example.com>'] and 'Subject: [pgmig] test alert in staging ($alerts_db)' in r['data'] and 'Message-ID: <' in r['data'] and 'Date: ' in r['data'] and 'To: dba@example.com, ops@example.com' in r['data']")
if [ "$(lines mail)" = 1 ] && [ "$check" = True ]; then pass "email: AUTH and an RFC 5322 message at the SMTP sink"; else fail "email: AUTH and an RFC 5322 message at the SMTP sink" "lines=$(lines mail) $check"; fi

run alert test --target hook --event deploy_failed --json
alerts_log
check=$(python3 -c "import json,sys; d=json.load(sys.stdin); print(d['ok'] and d['deliveries'][0]['delivered'] and d['deliveries'][0]['attempts']==1)" <<<"$out" 2>&1)
body_check=$(last hook "r['signature_ok'] and r['body']['event']=='deploy_failed' and r['body']['error'] is not None and r['body']['versions']==[] and r['body']['environment'] is None")
if [ "$rc" = 0 ] && [ "$check" = True ] && [ "$body_check" = True ]; then pass "alert test --event deploy_failed --json"; else fail "alert test --event deploy_failed --json" "rc=$rc $check $body_check $err"; fi

# A receiver that checks the signature refuses a wrong key (401: not retried).
IT_HOOK_SECRET="not-the-key" run alert test --target hook
alerts_log
expect "wrong HMAC key: refused by the receiver, exit 25" 25 "alert 'hook' not delivered after 1 attempt: HTTP status 401"
if [ "$(last hook "r['signature_ok']")" = False ]; then pass "receiver saw a bad signature"; else fail "receiver saw a bad signature" "$(last hook "r")"; fi

# A missing secret: nothing is sent unsigned.
before=$(lines hook)
env -u IT_HOOK_SECRET "$bin" alert test --target hook >"$work/out" 2>"$work/err"
rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
alerts_log
expect "missing secret_env: not sent, exit 25" 25 "IT_HOOK_SECRET (secret_env) is not set"
if [ "$(lines hook)" = "$before" ]; then pass "missing secret: nothing sent"; else fail "missing secret: nothing sent" "receiver got a request"; fi

# Event filter: a target subscribed to deploy_failed skips deploy_started.
before=$(lines hook)
run alert test --target deploys --event deploy_started
alerts_log
expect "event filter: skipped" 0 "alert 'deploys' (webhook): skipped, it does not subscribe to deploy_started"
if [ "$(lines hook)" = "$before" ]; then pass "event filter: nothing sent"; else fail "event filter: nothing sent" "receiver got a request"; fi

# --- retries and bounds ---------------------------------------------------------------------------------
run alert test --target flaky
alerts_log
expect "500 twice then 200: delivered on attempt 3" 0 "alert 'flaky' (webhook): delivered on attempt 3"
if [ "$(lines flaky)" = 3 ] && [ "$(grep -c "alert 'flaky' attempt .* failed: HTTP status 500" <<<"$err")" = 2 ] &&
    [ "$(last flaky "r['signature_ok']")" = True ]; then
    pass "flaky: 3 signed requests, 2 retries noted with the reason"
else
    fail "flaky: 3 signed requests, 2 retries noted with the reason" "lines=$(lines flaky) err=$err"
fi

started=$(date +%s.%N)
run alert test --target hang
elapsed=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$started" "$(date +%s.%N)")
alerts_log
expect "never answers: warning and exit 25" 25 "pgmig: warning: alert 'hang' not delivered after 2 attempts:" "timed out"
# Bound: (retries + 1) x timeout + retry_wait = 2 x 1s + 0.2s; allow slack for a loaded machine.
if python3 -c "import sys; e=float(sys.argv[1]); sys.exit(0 if 2.0 <= e <= 6.0 else 1)" "$elapsed" && [ "$(lines hang)" = 2 ]; then
    pass "never answers: bounded by timeout x attempts (${elapsed}s, 2 requests)"
else
    fail "never answers: bounded by timeout x attempts" "elapsed=${elapsed}s requests=$(lines hang)"
fi

run alert test --target reject
alerts_log
expect "HTTP 400 is not retried" 25 "alert 'reject' not delivered after 1 attempt: HTTP status 400"
if [ "$(lines reject)" = 1 ]; then pass "400: one request only"; else fail "400: one request only" "$(lines reject) requests"; fi

# --- Slack format, secret-bearing URL ---------------------------------------------------------------------
run alert test --target slack --event deploy_succeeded
alerts_log
check=$(last slack "isinstance(r['body']['text'], str) and 'deploy succeeded' in r['body']['text'] and r['body']['blocks'][0]['type']=='header' and r['path_len'] > 30 and not r['signed']")
if [ "$rc" = 0 ] && [ "$check" = True ]; then pass "slack format: text and blocks, URL from url_env"; else fail "slack format: text and blocks, URL from url_env" "rc=$rc $check $err"; fi
run alert test --target slackdown
alerts_log
expect "slack URL down: exit 25, target named" 25 "alert 'slackdown' not delivered after 2 attempts"
if grep -qF "$slack_path" <<<"$out$err"; then fail "slack URL never printed" "$err"; else pass "slack URL never printed"; fi

# --- email: without AUTH, STARTTLS required but not offered, wrong password ------------------------------
run alert test --target mailopen --event backup_failed
alerts_log
check=$(last mailopen "r['auth_user'] is None and 'Subject: [pgmig] backup failed' in r['data'] and 'X-Pgmig-Event: backup_failed' in r['data']")
if [ "$rc" = 0 ] && [ "$check" = True ]; then pass "email without AUTH (starttls=never)"; else fail "email without AUTH (starttls=never)" "rc=$rc $check $err"; fi
before=$(lines mailopen)
run alert test --target mailtls
alerts_log
expect "starttls=always without STARTTLS offered: not sent, not retried" 25 "alert 'mailtls' not delivered after 1 attempt" "STARTTLS not supported" "use smtps://"
if [ "$(lines mailopen)" = "$before" ]; then pass "starttls=always: no cleartext message"; else fail "starttls=always: no cleartext message" "a message was sent"; fi
run alert test --target mailstarttls
alerts_log
expect "starttls=auto: upgrades when offered; an untrusted certificate fails, not retried" 25 \
    "alert 'mailstarttls' not delivered after 1 attempt" "certificate"
check=$(python3 -c "import json,sys; rs=[json.loads(l) for l in open(sys.argv[1])]; print(rs[0].get('starttls') is True and not any('data' in r for r in rs))" "$alerts_dir/mailstarttls.jsonl" 2>&1)
if [ "$check" = True ]; then pass "starttls=auto: STARTTLS sent, no message in clear"; else fail "starttls=auto: STARTTLS sent, no message in clear" "$check $(cat "$alerts_dir/mailstarttls.jsonl")"; fi
before=$(lines mail)
run alert test --target mailauthauto
alerts_log
expect "AUTH with default starttls and no STARTTLS offered: not sent, not retried" 25 \
    "alert 'mailauthauto' not delivered after 1 attempt" "STARTTLS not supported" "never sent in clear" "starttls = \"never\""
if [ "$(lines mail)" = "$before" ]; then pass "AUTH without TLS: no password or message in clear"; else fail "AUTH without TLS: no password or message in clear" "$(tail -1 "$alerts_dir/mail.jsonl")"; fi
run alert test --target mailbadpw
alerts_log
expect "wrong SMTP password: refused, not retried" 25 "alert 'mailbadpw' not delivered after 1 attempt" "Login denied" "check username and the password in IT_SMTP_BADPW"

run alert test --target nosuch
alerts_log
expect "unknown target: exit 3" 3 "unknown alert target 'nosuch'" "use one of:"

# --- pgmig watch ------------------------------------------------------------------------------------------
# watch_start ARGS...: pgmig watch in the background; waits until it listens. Sets watch_pid.
watch_start() {
    : >"$alerts_dir/watch.out"
    "$bin" watch "$@" >"$alerts_dir/watch.out" 2>"$alerts_dir/watch.err" &
    watch_pid=$!
    alerts_pids+=("$watch_pid")
    local i
    for i in $(seq 100); do grep -q "LISTEN pgmig_drift" "$alerts_dir/watch.out" && return 0; sleep 0.1; done
    return 1
}
# watch_wait: waits (up to 30s) for the watcher to exit; sets rc, out, err.
watch_wait() {
    local i
    for i in $(seq 300); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$watch_pid" 2>/dev/null
    wait "$watch_pid"
    rc=$?
    out=$(cat "$alerts_dir/watch.out")
    err=$(cat "$alerts_dir/watch.err")
    cat "$alerts_dir/watch.out" "$alerts_dir/watch.err" >>"$alerts_dir/pgmig-output.log"
}

if watch_start --env staging --target drift --once --timeout 30s; then pass "watch listens"; else fail "watch listens" "$(cat "$alerts_dir/watch.err")"; fi
sql "$alerts_db" "CREATE TABLE oob_watch (id int)" >/dev/null
watch_wait
expect "watch --once: drift alert sent" 0 "drift: CREATE TABLE public.oob_watch" "alert 'drift' (webhook): delivered on attempt 1" \
    "stopped watching (--once): 1 drift alert sent, 0 delivery failures"
check=$(last drift "r['signature_ok'] and r['body']['event']=='drift_detected' and r['body']['environment']=='staging' and r['body']['database']['dbname']=='$alerts_db' and r['body']['drift'][0]['object']=='public.oob_watch' and r['body']['drift'][0]['command']=='CREATE TABLE' and r['body']['extra']['source']=='notify'")
if [ "$check" = True ]; then pass "watch: signed drift_detected with the drift object"; else fail "watch: signed drift_detected with the drift object" "$check"; fi

# A NOTIFY pgmig_drift anyone can send is only a wake-up: a forged payload (with a huge audit_id) sends no
# alert and does not make the watcher skip the real out-of-band DDL that follows.
if watch_start --env staging --target drift --once --timeout 30s; then
    sql "$alerts_db" "NOTIFY pgmig_drift, '{\"audit_id\": 999999999, \"command\": \"DROP TABLE\", \"object\": \"public.forged\"}'" >/dev/null
    sleep 1
    sql "$alerts_db" "CREATE TABLE oob_after_forge (id int)" >/dev/null
    watch_wait
    expect "watch: forged NOTIFY ignored, real drift still alerted" 0 "drift: CREATE TABLE public.oob_after_forge" \
        "stopped watching (--once): 1 drift alert sent, 0 delivery failures"
    if grep -q "forged" "$alerts_dir/watch.out"; then fail "watch: forged NOTIFY sends no alert" "$out"; else pass "watch: forged NOTIFY sends no alert"; fi
    check=$(last drift "[o['object'] for o in r['body']['drift']]==['public.oob_after_forge']")
    if [ "$check" = True ]; then pass "watch: alert made from pgmig.ddl_audit rows only"; else fail "watch: alert made from pgmig.ddl_audit rows only" "$check"; fi
else
    fail "watch listens (forged NOTIFY case)" "$(cat "$alerts_dir/watch.err")"
fi

# The connection drops; DDL meanwhile is caught up from pgmig.ddl_audit after the reconnect.
if watch_start -d "dbname=$alerts_db" --target drift --once --timeout 40s; then
    sql "$alerts_db" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$alerts_db' AND application_name = 'pgmig' AND pid <> pg_backend_pid()" >/dev/null
    sql "$alerts_db" "CREATE TABLE oob_missed (id int)" >/dev/null
    watch_wait
    expect "watch reconnects and catches up" 0 "lost the connection to" "reconnected to" "drift: CREATE TABLE public.oob_missed"
    check=$(last drift "r['body']['extra']['source']=='catch-up after reconnect' and any(o['object']=='public.oob_missed' for o in r['body']['drift']) and r['body']['environment'] is None")
    if [ "$check" = True ]; then pass "watch: catch-up alert after reconnect"; else fail "watch: catch-up alert after reconnect" "$check"; fi
else
    fail "watch listens (reconnect case)" "$(cat "$alerts_dir/watch.err")"
fi

# SIGTERM stops it cleanly.
if watch_start --env staging --target drift; then
    kill -TERM "$watch_pid"
    watch_wait
    expect "watch stops on SIGTERM" 0 "stopped watching (terminated): 0 drift alerts sent"
else
    fail "watch listens (SIGTERM case)" "$(cat "$alerts_dir/watch.err")"
fi

# A drift alert that cannot be delivered: warning and exit 25.
if watch_start --env staging --target rejectdrift --once --timeout 30s; then
    sql "$alerts_db" "CREATE TABLE oob_rejected (id int)" >/dev/null
    watch_wait
    expect "watch: undelivered drift alert exits 25" 25 "pgmig: warning: alert 'rejectdrift' not delivered after 1 attempt: HTTP status 400" \
        "1 delivery failure"
else
    fail "watch listens (undelivered case)" "$(cat "$alerts_dir/watch.err")"
fi

run watch -d "dbname=$alerts_db" --target nosuch --once
alerts_log
expect "watch: unknown target refused at start" 3 "unknown alert target 'nosuch'"
run watch --env staging --target drift --timeout soon
alerts_log
expect "watch: bad --timeout" 2 "bad --timeout 'soon'"

# --- no secret anywhere ------------------------------------------------------------------------------------
psql -X -A -t -q -d "$alerts_db" -c "SELECT * FROM pgmig.ddl_audit" >"$alerts_dir/ddl_audit.txt" 2>&1
leaks=$(grep -rlF -e "$alert_secret" -e "$smtp_password" -e "$slack_path" "$alerts_dir" "$work/out" "$work/err" 2>/dev/null)
if [ -s "$alerts_dir/pgmig-output.log" ] && [ -z "$leaks" ]; then
    pass "no webhook secret, SMTP password or secret URL in any output, log, record or audit row"
else
    fail "no secret in outputs and files" "found in: $leaks"
fi

for p in "${alerts_pids[@]}"; do kill "$p" 2>/dev/null; done
alerts_pids=()
trap cleanup EXIT
unset IT_HOOK_SECRET IT_SMTP_PASSWORD IT_SMTP_BADPW IT_SLACK_URL IT_SLACK_DOWN_URL
cd "$alerts_old_pwd" || true
