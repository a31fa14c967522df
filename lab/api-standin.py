#!/usr/bin/python3
"""lab-api NAME: stands in for a K3s server's port 6443 in the homecloud lab.

Like K3s: TLS with a server certificate from the cluster's server CA; a client certificate
is optional and checked against the client CA. Like K3s's supervisor, which answers 503
until its kube-apiserver runs, every request gets 503 while /etc/lab-api/notready exists.
Like the kube-apiserver with anonymous auth off, a request without a client certificate
gets 401 (so /readyz without one is 401, never 200). With one: /readyz answers "ok", any
other path the node's name (the lab counts where connections land). While
/etc/lab-api/etcd-down exists (etcd lost quorum) a request with a certificate gets 500, as
kube-apiserver v1.34 answers then ("[-]etcd failed"); one without still gets 401.
The client CA is where K3s keeps it on a server.
"""
import http.server
import os
import ssl
import sys

DIR = "/etc/lab-api"
CLIENT_CA = "/var/lib/rancher/k3s/server/tls/client-ca.crt"
NAME = sys.argv[1]
UNAUTHORIZED = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                '"message":"Unauthorized","reason":"Unauthorized","code":401}')
NOT_READY = "apiserver not ready"
ETCD_FAILED = "[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\nreadyz check failed"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 3600

    def handle(self):
        # The handshake runs here, in the connection's own thread, so a client that
        # connects and says nothing (a TCP check) never blocks the listener.
        try:
            self.connection.settimeout(5)
            self.connection.do_handshake()
            self.connection.settimeout(self.timeout)
        except (OSError, ssl.SSLError):
            return
        super().handle()

    def do_GET(self):
        if os.path.exists(os.path.join(DIR, "notready")):
            self.reply(503, NOT_READY)
        elif not self.connection.getpeercert():
            self.reply(401, UNAUTHORIZED)
        elif os.path.exists(os.path.join(DIR, "etcd-down")):
            self.reply(500, ETCD_FAILED)
        else:
            self.reply(200, "ok" if self.path.startswith("/readyz") else NAME)

    def reply(self, code, body):
        data = (body + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(DIR, "server.crt"), os.path.join(DIR, "server.key"))
    ctx.load_verify_locations(CLIENT_CA)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    server = Server(("0.0.0.0", 6443), Handler, bind_and_activate=True)
    server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.serve_forever()


if __name__ == "__main__":
    main()
