import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP proxy on 127.0.0.1 in front of a registry that misbehaves on request: resets
/// connections, answers 500/429, truncates bodies, flips bytes, goes silent mid-transfer
/// (`stall`), or redirects elsewhere. Rules are consumed in order;
/// every request is logged so tests can check what the client did (e.g. sent `Range`).
final class FaultProxy: @unchecked Sendable {
    struct Rule: Encodable {
        enum Action: String, Encodable { case reset, status, truncate, corrupt, stall, redirect }
        var method: String
        /// A Python regular expression searched in the request path.
        var path: String
        var action: Action
        var status: Int = 500
        var times: Int = 1
        var retryAfter: String? = nil
        /// `stall`: how long to stay silent (GET: after half the body; others: before reading
        /// the request body) before closing.
        var seconds: Double? = nil
        /// `redirect`: a 307 to this prefix (`http://host:port`) plus the request path.
        var location: String? = nil
    }

    struct LoggedRequest: Decodable {
        var method: String
        var path: String
        var range: String?
        var fault: String?
        /// The Host header the client sent.
        var host: String?
        /// Whether the request carried an Authorization header.
        var auth: Bool?
        /// The Expect header (`100-continue`), if any.
        var expect: String?
    }

    let port: Int
    private let dir: TempDir
    private let server: ServerProcess

    var host: String { "127.0.0.1:\(port)" }

    init(upstreamPort: Int) async throws {
        dir = try TempDir("proxy")
        do {
            let script = dir.file("proxy.py")
            try Self.script.write(to: script, atomically: true, encoding: .utf8)
            let portFile = dir.file("port")
            server = try ServerProcess(executable: python3Path(),
                                       arguments: [script.path, String(upstreamPort), portFile.path],
                                       logPath: dir.file("proxy.log").path)
            do { port = try await server.waitForPortFile(portFile.path) } catch { await server.stop(); throw error }
        } catch {
            dir.remove()
            throw error
        }
    }

    func stop() async {
        await server.stop()
        dir.remove()
    }

    /// Replaces the fault rules.
    func setRules(_ rules: [Rule]) async throws {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/__faults")!)
        request.httpMethod = "POST"
        request.httpBody = try JSONEncoder().encode(rules)
        _ = try await URLSession.shared.data(for: request)
    }

    /// Every request seen since start (control requests excluded).
    func requests() async throws -> [LoggedRequest] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/__log")!)
        return try JSONDecoder().decode([LoggedRequest].self, from: data)
    }

    static func with<T>(upstreamPort: Int, _ body: (FaultProxy) async throws -> T) async throws -> T {
        let proxy = try await FaultProxy(upstreamPort: upstreamPort)
        do {
            let result = try await body(proxy)
            await proxy.stop()
            return result
        } catch {
            await proxy.stop()
            throw error
        }
    }

    static let script = #"""
import http.client, http.server, json, re, socket, struct, sys, threading, time

UPSTREAM = int(sys.argv[1])
lock = threading.Lock()
rules = []
log = []

def take_rule(method, path):
    with lock:
        for r in rules:
            if r["times"] > 0 and r["method"] == method and re.search(r["path"], path):
                r["times"] -= 1
                return r
    return None

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def hard_close(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        try: self.connection.close()
        except Exception: pass

    def handle_any(self):
        if self.path not in ("/__faults", "/__log"):
            return self.handle_proxied()
        body = self.read_body()
        if self.path == "/__faults":
            global rules
            with lock: rules = json.loads(body)
            return self.reply(200, {}, b"{}")
        if self.path == "/__log":
            with lock: data = json.dumps(log).encode()
            return self.reply(200, {"Content-Type": "application/json"}, data)

    def handle_proxied(self):
        rule = take_rule(self.command, self.path)
        with lock:
            log.append({"method": self.command, "path": self.path, "range": self.headers.get("Range"), "t": time.time(), "te": self.headers.get("Transfer-Encoding"), "expect": self.headers.get("Expect"),
                        "host": self.headers.get("Host"), "auth": self.headers.get("Authorization") is not None,
                        "fault": rule["action"] if rule else None})
        if rule and rule["action"] == "stall" and self.command != "GET":
            time.sleep(rule.get("seconds") or 60)
            return self.hard_close()
        body = self.read_body()
        if rule and rule["action"] == "redirect":
            return self.reply(307, {"Location": rule["location"] + self.path}, b"")
        if rule and rule["action"] == "reset":
            return self.hard_close()
        if rule and rule["action"] == "status":
            extra = {"Retry-After": rule["retryAfter"]} if rule.get("retryAfter") else {}
            return self.reply(rule["status"], extra, b'{"errors":[{"code":"INJECTED","message":"injected fault"}]}')
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding", "connection", "content-length")}
        headers["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        out_headers = {k: v for k, v in resp.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")}
        if rule and rule["action"] == "corrupt" and data:
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
        if rule and rule["action"] == "stall" and self.command == "GET":
            self.send_response(resp.status)
            for k, v in out_headers.items(): self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(rule.get("seconds") or 60)
            return self.hard_close()
        if rule and rule["action"] == "truncate" and self.command != "HEAD":
            self.send_response(resp.status)
            for k, v in out_headers.items(): self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            return self.hard_close()
        self.reply(resp.status, out_headers, data, head=self.command == "HEAD",
                   length=resp.getheader("Content-Length") if self.command == "HEAD" else None)

    def reply(self, status, headers, data, head=False, length=None):
        self.send_response(status)
        for k, v in headers.items(): self.send_header(k, v)
        self.send_header("Content-Length", length if length is not None else str(len(data)))
        self.end_headers()
        if not head: self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(sys.argv[2] + ".tmp", "w") as f: f.write(str(server.server_address[1]))
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
"""#
}
