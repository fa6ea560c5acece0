#!/usr/bin/env python3
"""A loopback HTTP server for imio's resource tests (127.0.0.1 only).

    http_server.py --root DIR --port-file FILE --log FILE [--lifetime SECONDS]

Binds an ephemeral port on 127.0.0.1, writes the port number to FILE (by
rename, so a reader never sees half a number), appends the path of every
request to the log, and exits by itself after --lifetime seconds whatever
happens to the test that started it. Query strings are ignored.

    /files/NAME             the file ROOT/NAME, with Content-Length
    /redirect/N/NAME        N redirects (302), then /files/NAME
    /loop/NAME              redirects to itself forever
    /status/CODE/NAME       an empty response with that status
    /slow/NAME              headers and 16 bytes of NAME, then silence
    /truncated/NAME         announces NAME's length, sends half, closes
    /nolength/NAME          NAME without Content-Length (ends at close)
"""
import argparse
import http.server
import os
import socketserver
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."
    log_path = None

    def log_message(self, *args):  # silent: the tests read the log file instead
        pass

    def record(self):
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(self.path + "\n")

    def body_of(self, name):
        path = os.path.join(self.root, name)
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    def not_found(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.record()
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        parts = path.lstrip("/").split("/")
        kind, rest = parts[0], parts[1:]
        if kind == "redirect" and len(rest) >= 2:
            n = int(rest[0])
            target = "/files/" + "/".join(rest[1:]) if n <= 1 else "/redirect/%d/%s" % (n - 1, "/".join(rest[1:]))
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if kind == "loop":
            self.send_response(302)
            self.send_header("Location", path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if kind == "status" and rest:
            self.send_response(int(rest[0]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.body_of("/".join(rest))
        if body is None:
            self.not_found()
            return
        if kind == "files":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif kind == "slow":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:16])
            self.wfile.flush()
            time.sleep(30)
            self.close_connection = True
        elif kind == "truncated":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif kind == "nolength":
            self.protocol_version = "HTTP/1.0"
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        else:
            self.not_found()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True  # a sleeping /slow handler never delays the exit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=float, default=300)
    args = ap.parse_args()
    Handler.root = args.root
    Handler.log_path = args.log
    open(args.log, "a").close()
    server = Server(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
