import Foundation
import HTTP
import OCI

extension RegistryClient {
    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }
    static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }

    /// `HEAD /v2/<repo>/blobs/<digest>`: the blob's size if the repository has it, else nil.
    public func blobExists(repository: String, digest: Digest) async throws -> Int64? {
        let repo = try Self.repositoryPath(repository)
        return try await options.retry.run { _ in
            let response = try await execute("HEAD", url(path: "/v2/\(repo)/blobs/\(digest)"),
                                              scopes: [Self.pullScope(repo)])
            switch response.status {
            case 200: return response.header("content-length").flatMap(Int64.init) ?? -1
            case 404: return nil
            default: throw statusError(response, method: "HEAD")
            }
        }
    }

    /// Downloads a blob into the file at `destination` (created or truncated), hashing while
    /// streaming. Interrupted transfers resume with `Range`; 429/5xx/resets are retried. When the
    /// bytes do not match `digest` (or `size`), the file is removed and an error thrown: a
    /// returned file always holds exactly the blob. Returns the number of bytes.
    @discardableResult
    public func fetchBlob(repository: String, digest: Digest, size: Int64? = nil, to destination: URL,
                          progress: (@Sendable (Int64) -> Void)? = nil) async throws -> Int64 {
        let repo = try Self.repositoryPath(repository)
        let what = "blob \(digest.short) of \(host.name)/\(repo)"
        do {
            let sink = BlobSink(target: try FileBlobTarget(path: destination.path), expectedSize: size, what: what,
                                progress: progress)
            return try await fetchBlob(repo: repo, digest: digest, size: size, sink: sink, what: what)
        } catch {
            unlink(destination.path)
            throw error
        }
    }

    /// Downloads a blob straight into `store` (verified while streaming, and again by the store
    /// before it is published). A blob the store already has is not fetched. Returns the bytes
    /// transferred (0 when skipped).
    @discardableResult
    public func fetchBlob(repository: String, digest: Digest, size: Int64?, into store: ImageStore,
                          progress: (@Sendable (Int64) -> Void)? = nil) async throws -> Int64 {
        if store.content.hasBlob(digest), (try? store.content.lease(digest)) == true { return 0 }
        let target = try StoreBlobReceiver(store: store)
        do {
            return try await fetchBlob(repository: repository, digest: digest, size: size, into: target, progress: progress)
        } catch {
            target.abort()
            throw error
        }
    }

    /// Downloads a blob into any `BlobReceiver` (hashed as it arrives; resumed with `Range` and
    /// retried as `fetchBlob(to:)`); the receiver keeps it only when it matches `digest`.
    @discardableResult
    public func fetchBlob(repository: String, digest: Digest, size: Int64?, into receiver: any BlobReceiver,
                          progress: (@Sendable (Int64) -> Void)? = nil) async throws -> Int64 {
        let repo = try Self.repositoryPath(repository)
        let what = "blob \(digest.short) of \(host.name)/\(repo)"
        let sink = BlobSink(target: receiver, expectedSize: size, what: what, progress: progress)
        return try await fetchBlob(repo: repo, digest: digest, size: size, sink: sink, what: what)
    }

    private func fetchBlob(repo: String, digest: Digest, size: Int64?, sink: BlobSink, what: String) async throws -> Int64 {
        let policy = options.retry
        var attempt = 1
        var mismatches = 0
        while true {
            do {
                var headers: [String: String] = [:]
                sink.requestedOffset = sink.written
                if sink.written > 0 { headers["Range"] = "bytes=\(sink.written)-" }
                let response = try await execute("GET", url(path: "/v2/\(repo)/blobs/\(digest)"), headers: headers,
                                                  scopes: [Self.pullScope(repo)], sink: sink)
                switch response.status {
                case 200, 206:
                    break
                case 404:
                    throw RegistryError.notFound(what: "blob \(digest)", registry: host.name, repository: repo)
                case 416:
                    try sink.reset()
                    throw RegistryError.transport("range not satisfiable, restarting", url: response.url.absoluteString)
                default:
                    throw statusError(response, method: "GET")
                }
                if let size, sink.written < size {
                    // The server closed early without an error: resume from where it stopped.
                    throw RegistryError.transport("transfer ended after \(sink.written) of \(size) bytes", url: response.url.absoluteString)
                }
                let actual = try sink.finish(expected: digest)
                guard actual == digest else {
                    mismatches += 1
                    // One retry from scratch covers a corrupting proxy hiccup; twice means the
                    // registry really serves these bytes.
                    guard mismatches < 2, attempt < policy.maxAttempts else {
                        throw RegistryError.digestMismatch(expected: digest, actual: actual, what: what)
                    }
                    try sink.reset()
                    attempt += 1
                    continue
                }
                return sink.written
            } catch let error as RegistryError where error.isTransient && attempt < policy.maxAttempts {
                try await Task.sleep(nanoseconds: UInt64(policy.delay(after: attempt, error: error) * 1e9))
                attempt += 1
            }
        }
    }

    /// What `pushBlob` had to do.
    public enum BlobPushResult: String, Sendable {
        case alreadyPresent
        case mounted
        case uploaded
    }

    /// Makes `digest` (the content of `file`) present in `repository`: skips it if the
    /// registry has it, tries a cross-repository mount from `mountFrom` (a repository on the same
    /// registry known to hold it), else uploads it (one PUT, or PATCH chunks when
    /// `options.chunkSize` is set). The registry's `Docker-Content-Digest` is checked.
    @discardableResult
    /// `checkExisting: false` when the caller has just asked (`ImageCopy` asks the destination
    /// `hasBlob` first): one HEAD per blob, not two.
    public func pushBlob(repository: String, digest: Digest, size: Int64, from file: URL,
                         mountFrom: String? = nil, checkExisting: Bool = true) async throws -> BlobPushResult {
        let repo = try Self.repositoryPath(repository)
        if checkExisting, try await blobExists(repository: repo, digest: digest) != nil { return .alreadyPresent }
        return try await options.retry.run { _ in
            var scopes = [Self.pushScope(repo)]
            var query: [URLQueryItem] = []
            if let from = mountFrom, from != repo, let fromRepo = try? Self.repositoryPath(from) {
                scopes.append(Self.pullScope(fromRepo))
                query = [URLQueryItem(name: "mount", value: digest.description), URLQueryItem(name: "from", value: fromRepo)]
            }
            let start = try await execute("POST", url(path: "/v2/\(repo)/blobs/uploads/", query: query),
                                          headers: ["Content-Length": "0"], scopes: scopes)
            if start.status == 201, !query.isEmpty { return .mounted }
            guard start.status == 202 else { throw statusError(start, method: "POST") }
            var location = try uploadLocation(start)
            if let chunk = options.chunkSize, chunk > 0, size > Int64(chunk) {
                location = try await uploadChunks(file: file, digest: digest, size: size, chunk: chunk, location: location, scopes: scopes)
                return try await finishUpload(location: location, digest: digest, body: .none, size: 0, scopes: scopes)
            }
            return try await finishUpload(location: location, digest: digest, body: .file(file, digest: digest), size: size, scopes: scopes)
        }
    }

    /// Uploads in-memory bytes (configs, small blobs) the same way.
    @discardableResult
    public func pushBlob(repository: String, data: Data) async throws -> BlobPushResult {
        let digest = Digest.sha256(data)
        let repo = try Self.repositoryPath(repository)
        if try await blobExists(repository: repo, digest: digest) != nil { return .alreadyPresent }
        return try await options.retry.run { _ in
            let scopes = [Self.pushScope(repo)]
            let start = try await execute("POST", url(path: "/v2/\(repo)/blobs/uploads/"),
                                          headers: ["Content-Length": "0"], scopes: scopes)
            guard start.status == 202 else { throw statusError(start, method: "POST") }
            return try await finishUpload(location: try uploadLocation(start), digest: digest, body: .data(data),
                                          size: Int64(data.count), scopes: scopes)
        }
    }

    private func uploadLocation(_ response: HTTPResponse) throws -> URL {
        guard let location = response.header("location"),
              let url = URL(string: location, relativeTo: host.baseURL)?.absoluteURL else {
            throw RegistryError.protocolViolation("upload response without a usable Location header")
        }
        return url
    }

    /// PATCHes the file in `chunk`-byte pieces, hashing them on the way: the last piece is not
    /// sent when the whole does not hash to `digest` (a corrupt store blob).
    private func uploadChunks(file: URL, digest: Digest, size: Int64, chunk: Int, location: URL, scopes: [String]) async throws -> URL {
        guard let handle = try? FileHandle(forReadingFrom: file) else {
            throw RegistryError.io("cannot open \(file.path)")
        }
        defer { try? handle.close() }
        var location = location
        var offset: Int64 = 0
        var hasher: SHA256Hasher? = SHA256Hasher()
        while offset < size {
            let data: Data
            do { data = try handle.read(upToCount: chunk) ?? Data() } catch {
                throw RegistryError.io("reading \(file.path): \(error.localizedDescription)")
            }
            guard !data.isEmpty else {
                throw RegistryError.io("\(file.path) is shorter than \(size) bytes")
            }
            let end = offset + Int64(data.count) - 1
            hasher?.update(data)
            if end + 1 >= size, let h = hasher.take() {
                let actual = h.finalize()
                if actual != digest {
                    throw StoreError.corruptBlob(digest, what: "blob \(digest)", cause: "its content hashes to \(actual)")
                }
            }
            let response = try await execute("PATCH", location, headers: [
                "Content-Type": "application/octet-stream",
                "Content-Range": "\(offset)-\(end)",
                "Content-Length": String(data.count),
            ], body: .data(data), scopes: scopes)
            guard response.status == 202 else { throw statusError(response, method: "PATCH") }
            location = try uploadLocation(response)
            offset = end + 1
        }
        return location
    }

    private func finishUpload(location: URL, digest: Digest, body: RequestBody, size: Int64,
                              scopes: [String]) async throws -> BlobPushResult {
        guard var components = URLComponents(url: location, resolvingAgainstBaseURL: true) else {
            throw RegistryError.protocolViolation("upload Location '\(location)' is not a URL")
        }
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "digest", value: digest.description)]
        // '+' in a query means space to Go's parser; upload state tokens are base64.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        guard let url = components.url else { throw RegistryError.protocolViolation("cannot build the upload URL") }
        let response = try await execute("PUT", url, headers: [
            "Content-Type": "application/octet-stream",
            "Content-Length": String(size),
        ], body: body, scopes: scopes)
        guard response.status == 201 else { throw statusError(response, method: "PUT") }
        if let returned = response.header("docker-content-digest"), returned != digest.description {
            throw RegistryError.protocolViolation("the registry stored blob \(returned) for upload of \(digest)")
        }
        return .uploaded
    }
}
