"""End-to-end Socket Mode benchmark of the official Python client (`slack_sdk.socket_mode`,
its built-in WebSocket client), for issue 13.

Run by xtask/src/official.rs (`run_official_bench`) with the venv's interpreter:

    python bench_socket_mode.py API_URL APP_TOKEN envelopes N
        The emulator runs with `--sm-blast N`: ack every envelope in a
        `socket_mode_request_listeners` handler (the client's documented way) and count the
        `events_api` ones until N.

Prints ONE JSON line:
    {"client":"python-socket-mode","mode":"envelopes","n":…,"connect_to_hello_us":…,
     "elapsed_us":…,"cpu_us":…,"peak_rss_kb":…}
connect_to_hello covers `connect()` (apps.connections.open, the socket handshake) until the
`hello` listener runs; elapsed: from hello to the Nth envelope; cpu: user+sys of the whole
process over that interval (getrusage); peak_rss_kb: ru_maxrss. The ack latencies are measured
by the emulator. Any failure exits non-zero with the reason on stderr.
"""

import json
import logging
import os
import resource
import sys
import threading
import time

from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web import WebClient


def die(reason):
    sys.stderr.write(f"bench failed: {reason}\n")
    sys.stderr.flush()
    os._exit(1)


def cpu_us():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return int((r.ru_utime + r.ru_stime) * 1_000_000)


def now_us():
    return time.monotonic_ns() // 1000


def main():
    args = sys.argv[1:]
    if len(args) != 4 or args[2] != "envelopes" or not args[3].isdigit() or int(args[3]) <= 0:
        sys.stderr.write("usage: python bench_socket_mode.py API_URL APP_TOKEN envelopes N\n")
        os._exit(2)
    api_url, app_token, mode, n = args[0], args[1], args[2], int(args[3])
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    quiet = logging.getLogger("bench.socket_mode")
    quiet.setLevel(logging.CRITICAL + 1)

    lock = threading.Lock()
    st = {"hellos": 0, "count": 0, "connect_start": 0, "connect_to_hello": 0, "start": 0, "cpu": 0}
    done = threading.Event()

    # Any error the client reports means lost or garbled frames (the count can no longer be
    # trusted): fail with the first one.
    def on_error(error):
        with lock:
            n_seen = st["count"]
        die(f"client error after {n_seen} envelopes: {type(error).__name__}: {str(error)[:200]}")

    client = SocketModeClient(
        app_token=app_token,
        web_client=WebClient(base_url=api_url),
        logger=quiet,
        on_error_listeners=[on_error],
    )

    def on_message(_client, message, _raw):
        if message.get("type") == "hello":
            with lock:
                st["hellos"] += 1
                if st["hellos"] > 1:
                    die(f"reconnected in the middle of the run (after {st['count']} envelopes)")
                st["connect_to_hello"] = now_us() - st["connect_start"]
                st["start"] = now_us()
                st["cpu"] = cpu_us()

    def on_request(client, req):
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        if req.type != "events_api":
            return
        with lock:
            st["count"] += 1
            if st["count"] == n:
                st["elapsed"] = now_us() - st["start"]
                st["cpu_used"] = cpu_us() - st["cpu"]
                done.set()

    client.message_listeners.append(on_message)
    client.socket_mode_request_listeners.append(on_request)
    st["connect_start"] = now_us()
    try:
        client.connect()
    except Exception as e:  # noqa: BLE001
        die(f"connect failed: {type(e).__name__}: {e}")
    # The caller's timeout bounds this wait; poll so a dead session is reported.
    while not done.wait(1.0):
        if not client.is_connected():
            die(f"disconnected after {st['count']} envelopes")
    # Leave time for the last acks to go out.
    time.sleep(0.2)
    line = {
        "client": "python-socket-mode",
        "mode": mode,
        "n": n,
        "connect_to_hello_us": st["connect_to_hello"],
        "elapsed_us": st["elapsed"],
        "cpu_us": st["cpu_used"],
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    # The client's worker threads are not daemons: leave without waiting for them.
    os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        die(f"{type(e).__name__}: {e}")
