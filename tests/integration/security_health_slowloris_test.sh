# Slow clients against `pgmig health --serve`: connections that trickle their request one byte at a time
# (slowloris), more of them than the server has workers, must neither stop /health/live from answering nor
# stay open past the request deadline; oversized headers and bodies are refused; requests beyond the worker
# queue are answered 503 at once instead of piling up.
# Sourced by run.sh (see lib.sh for the helpers).

sl_trickler="$work/slowloris.py"
cat >"$sl_trickler" <<'PY'
# slowloris.py PORT COUNT READY_FILE RESULT_FILE BOUND_S: opens COUNT connections, sends a request line and
# then one header byte per connection every 0.5 s (well below any per-recv timeout), never ending the headers.
# Writes READY_FILE once every connection is open and has sent its first bytes; stops when the server has
# closed them all or after BOUND_S seconds; RESULT_FILE gets one line per connection: "closed" or "open".
import os, select, socket, sys, time
port, count, ready, result, bound = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
conns = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setblocking(False)
    conns.append(s)
    try:
        s.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    except OSError:
        pass
open(ready, "w").close()
closed = [False] * count

def gone(s):
    # The server closed it: EOF or a reset (a 408 before the close is read and ignored).
    try:
        while True:
            r, _, _ = select.select([s], [], [], 0)
            if not r:
                return False
            if s.recv(4096) == b"":
                return True
    except OSError:
        return True

start = time.monotonic()
while time.monotonic() - start < bound and not all(closed):
    for i, s in enumerate(conns):
        if closed[i]:
            continue
        if gone(s):
            closed[i] = True
            continue
        try:
            s.send(b"a")
        except OSError:
            closed[i] = True
    time.sleep(0.5)
with open(result, "w") as f:
    for c in closed:
        f.write("closed\n" if c else "open\n")
PY

# sl_start NAME ARGS...: starts `pgmig health --serve 127.0.0.1:0 ARGS...`; sets $sl_server and $sl_port.
sl_start() {
    local name=$1
    shift
    "$bin" health -d "dbname=$sl_db" --serve 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
    sl_server=$!
    sl_port=""
    for _ in $(seq 1 100); do
        sl_port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\) .*|\1|p' "$work/$name.out" 2>/dev/null)
        [ -n "$sl_port" ] && return 0
        kill -0 "$sl_server" 2>/dev/null || break
        sleep 0.1
    done
    fail "slowloris: $name starts" "$(cat "$work/$name.out" "$work/$name.err")"
    kill -TERM "$sl_server" 2>/dev/null
    wait "$sl_server" 2>/dev/null
    return 1
}
sl_stop() { kill -TERM "$sl_server" 2>/dev/null; wait "$sl_server" 2>/dev/null; }

# sl_live NAME: GET /health/live must answer 200 within curl's 5 s.
sl_live() {
    local code
    code=$(curl -s -o "$work/sl.body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$sl_port/health/live")
    if [ "$code" = 200 ] && grep -q '"status": "ok"' "$work/sl.body"; then
        pass "$1"
    else
        fail "$1" "GET /health/live: ${code:-no answer} $(head -c 200 "$work/sl.body" 2>/dev/null)"
    fi
}

# sl_trickle NAME COUNT BOUND: runs the trickler in the background until READY; sets $sl_pid.
sl_trickle() {
    rm -f "$work/$1.ready" "$work/$1.result"
    python3 "$sl_trickler" "$sl_port" "$2" "$work/$1.ready" "$work/$1.result" "$3" 2>"$work/$1.py.err" &
    sl_pid=$!
    for _ in $(seq 1 100); do [ -e "$work/$1.ready" ] && break; sleep 0.1; done
    # Long enough for the server to hand each trickling connection to whatever would serve it.
    sleep 1.5
}

# sl_closed NAME COUNT: waits for the trickler and checks that the server closed every connection.
sl_closed() {
    wait "$sl_pid"
    local closed
    closed=$(grep -c '^closed$' "$work/$1.result" 2>/dev/null)
    if [ "${closed:-0}" -eq "$2" ]; then
        pass "slowloris: the server closed all $2 trickling connections ($1)"
    else
        fail "slowloris: the server closed all $2 trickling connections ($1)" \
            "${closed:-0} closed, the rest still open after the bound $(cat "$work/$1.py.err")"
    fi
}

newdb sl_db

# --- defaults: more trickling connections than worker threads ------------------------------------------
if sl_start sl_default; then
    sl_trickle sl_default 12 40
    sl_live "slowloris: /health/live answers 200 while 12 connections trickle their headers"
    sl_live "slowloris: /health/live still answers on a second try"
    sl_closed sl_default 12
    sl_live "slowloris: /health/live answers after the trickling connections are gone"
    sl_stop
fi

# --- a connection limit: the oldest unfinished request makes room for a new connection ---------------------
if sl_start sl_limit --max-connections 4 --read-timeout 30s; then
    sl_trickle sl_limit 8 40
    sl_live "slowloris: /health/live answers with 8 trickling connections over --max-connections 4"
    sl_closed sl_limit 8
    sl_stop
fi

# --- header and body limits -----------------------------------------------------------------------------
if sl_start sl_sizes; then
    sl_headers=()
    for i in $(seq 1 64); do sl_headers+=(-H "X-Filler-$i: $(printf '%0500d' 0)"); done
    sl_code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${sl_headers[@]}" "http://127.0.0.1:$sl_port/health/live")
    [ "$sl_code" = 431 ] && pass "slowloris: 32 KB of headers are refused with 431" ||
        fail "slowloris: 32 KB of headers are refused with 431" "got ${sl_code:-no answer}"
    sl_code=$(head -c 100000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X GET \
        -H 'Content-Type: application/octet-stream' --data-binary @- "http://127.0.0.1:$sl_port/health/live")
    [ "$sl_code" = 413 ] && pass "slowloris: a 100 KB request body is refused with 413" ||
        fail "slowloris: a 100 KB request body is refused with 413" "got ${sl_code:-no answer}"
    sl_code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X GET -H 'Transfer-Encoding: chunked' \
        --data-binary 'x' "http://127.0.0.1:$sl_port/health/live")
    [ "$sl_code" = 411 ] && pass "slowloris: a chunked request body is refused with 411" ||
        fail "slowloris: a chunked request body is refused with 411" "got ${sl_code:-no answer}"
    sl_live "slowloris: /health/live answers after the oversized requests"
    sl_stop
fi

# --- a bounded queue: requests beyond the workers and their queue get 503 at once ----------------------
# A session holding an exclusive lock on the ledger makes each /health wait (up to --timeout 20s) for it.
if sl_start sl_queue --workers 1 --timeout 20s; then
    psql -X -q -d "$sl_db" -c "BEGIN; LOCK TABLE pgmig.migrations IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(12); COMMIT" \
        >/dev/null 2>&1 &
    sl_locker=$!
    sleep 1
    sl_curls=()
    for i in $(seq 1 8); do
        curl -s -o "$work/slq.$i.body" -w '%{http_code}\n' --max-time 60 "http://127.0.0.1:$sl_port/health" \
            >"$work/slq.$i.code" &
        sl_curls+=($!)
    done
    sleep 1
    sl_live "slowloris: /health/live answers while the only worker and its queue are busy"
    wait "${sl_curls[@]}"
    wait "$sl_locker"
    sl_codes=$(cat "$work"/slq.*.code | sort | tr '\n' ' ')
    if grep -q 503 <<<"$sl_codes" && grep -q 200 <<<"$sl_codes" && grep -q '"busy' "$work"/slq.*.body; then
        pass "slowloris: requests beyond the worker queue are answered 503, the queued ones 200 ($sl_codes)"
    else
        fail "slowloris: requests beyond the worker queue are answered 503" "codes: $sl_codes"
    fi
    grep -q "^GET /health 503$" "$work/sl_queue.err" && pass "slowloris: the 503 refusals are logged" ||
        fail "slowloris: the 503 refusals are logged" "$(head -5 "$work/sl_queue.err")"
    sl_stop
fi
