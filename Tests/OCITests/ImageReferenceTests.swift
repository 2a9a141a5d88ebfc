import Testing
@testable import OCI

@Suite struct ImageReferenceTests {
    @Test(arguments: [
        ("alpine", "docker.io/library/alpine:latest", "alpine:latest"),
        ("alpine:3.19", "docker.io/library/alpine:3.19", "alpine:3.19"),
        ("user/app", "docker.io/user/app:latest", "user/app:latest"),
        ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1"),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        ("localhost:5000/a/b-c__d.e:v1.0-rc", "localhost:5000/a/b-c__d.e:v1.0-rc", "localhost:5000/a/b-c__d.e:v1.0-rc"),
        ("ghcr.io/org/app:1.2", "ghcr.io/org/app:1.2", "ghcr.io/org/app:1.2"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest"),
        ("[::1]:5000/x:t", "[::1]:5000/x:t", "[::1]:5000/x:t"),
        ("Registry.Example.com/x", "Registry.Example.com/x:latest", "Registry.Example.com/x:latest"),
    ])
    func normalises(input: String, full: String, familiar: String) throws {
        let r = try ImageReference(parsing: input)
        #expect(r.description == full)
        #expect(r.familiar == familiar)
    }

    @Test func digestReferencesKeepNoDefaultTag() throws {
        let hex = String(repeating: "a", count: 64)
        let r = try ImageReference(parsing: "alpine@sha256:\(hex)")
        #expect(r.tag == nil)
        #expect(r.digest?.encoded == hex)
        #expect(r.description == "docker.io/library/alpine@sha256:\(hex)")
        let both = try ImageReference(parsing: "alpine:3@sha256:\(hex)")
        #expect(both.tag == "3")
    }

    @Test(arguments: [
        ("", "empty"),
        ("Alpine", "must be lowercase"),
        ("docker.io/Library/alpine", "must be lowercase"),
        ("alpine:", "tag '' is invalid"),
        ("alpine:-x", "tag '-x' is invalid"),
        ("alpine:" + String(repeating: "t", count: 129), "is invalid"),
        ("a//b", "empty path component"),
        ("a/b_", "path component 'b_' is invalid"),
        ("a/-b", "path component '-b' is invalid"),
        ("a/b...c", "path component 'b...c' is invalid"),
        ("alpine@sha256:abc", "digest"),
        ("alpine@md5", "digest"),
        (String(repeating: "0", count: 64), "image ID"),
        ("-host.com/x", "registry host"),
        ("host.com:port/x", "registry host"),
        ("x/" + String(repeating: "a", count: 260), "255"),
        (":tag", "repository name is missing"),
    ])
    func rejects(input: String, reason: String) {
        do {
            let r = try ImageReference(parsing: input)
            Issue.record("accepted '\(input)' as \(r)")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
        }
    }

    @Test func codableRoundTrip() throws {
        let r = try ImageReference(parsing: "ghcr.io/o/a:1")
        let back = try CanonicalJSON.decode(ImageReference.self, from: try CanonicalJSON.encode(r))
        #expect(back == r)
    }
}
