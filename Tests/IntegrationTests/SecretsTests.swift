import Foundation
import Testing
import TestSupport

/// `--secret` values are readable in RUN and nowhere else: not in a layer, the config, the
/// history, the cache index, the store's files or the build's output.
@Suite("Secrets: RUN --mount=type=secret", .serialized, .requires(BuildHarness.requirements))
struct SecretsTests {
    static let secret = "sw-SECRET-7f3a91c2-do-not-leak"

    /// The Dockerfile compares digests: the secret itself must not appear in it.
    static func dockerfile() async -> String {
        let md5 = await secretMD5()
        return """
        # syntax=docker/dockerfile:1
        FROM busybox
        RUN --mount=type=secret,id=token test "$(md5sum < /run/secrets/token | cut -d' ' -f1)" = "\(md5)" && echo file-ok > /ok
        RUN --mount=type=secret,id=token,env=TOKEN,required test "$(printf %s "$TOKEN" | md5sum | cut -d' ' -f1)" = "\(md5)" && echo env-ok >> /ok
        RUN --mount=type=secret,id=token,target=/tmp/tok,mode=0440,uid=1000,gid=50 stat -c '%a %u %g' /tmp/tok > /mode
        RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent && echo optional-ok >> /ok
        """
    }

    static func secretMD5() async -> String {
        (try? await BuildHarness.run(["/bin/sh", "-c", "printf %s '\(secret)' | md5sum | cut -d' ' -f1"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? ""
    }

    @Test("a secret is readable in RUN and absent from layers, config, history, store and progress output")
    func secretNeverLeaks() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", await Self.dockerfile())
        let secretFile = s.root + "/token.txt"
        try Self.secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        let out = s.root + "/rootfs"
        let r = try await s.build(["-t", "sec:1", "--secret", "id=token,src=\(secretFile)", "--output", "type=local,dest=\(out)"])
        #expect(r.status == 0, "\(r.combined)")
        #expect(try String(contentsOfFile: out + "/ok", encoding: .utf8) == "file-ok\nenv-ok\noptional-ok\n")
        #expect(try String(contentsOfFile: out + "/mode", encoding: .utf8) == "440 1000 50\n")
        #expect(!FileManager.default.fileExists(atPath: out + "/run/secrets/token"))
        #expect(!FileManager.default.fileExists(atPath: out + "/tmp/tok"))

        // The env form, from a variable.
        let viaEnv = try await BuildHarness.run([BuildHarness.binary, "build", "--progress", "plain", "--root", s.store,
                                          "--secret", "id=token,env=SW_TOKEN", "-t", "sec:2", s.context],
                                         env: ["SW_TOKEN": Self.secret])
        #expect(viaEnv.status == 0, "\(viaEnv.combined)")

        // Grep everything: output, history, inspect, every store file, every layer decompressed.
        var haystacks: [(String, String)] = [("build output", r.combined), ("env build output", viaEnv.combined)]
        for cmd in [["history", "--no-trunc", "sec:1"], ["inspect", "sec:1"]] {
            let h = try await s.slipway(cmd)
            haystacks.append((cmd.joined(separator: " "), h.combined))
        }
        for (what, text) in haystacks {
            #expect(!text.contains(Self.secret), "secret in \(what)")
        }
        let grep = try await BuildHarness.run(["/bin/grep", "-rla", Self.secret, s.store])
        #expect(grep.stdout.isEmpty, "secret in store files: \(grep.stdout)")
        let layers = try await BuildHarness.run(["/bin/sh", "-c",
            "for b in '\(s.store)'/blobs/sha256/*; do (gzip -dc \"$b\" 2>/dev/null || zstd -dc \"$b\" 2>/dev/null || cat \"$b\") | grep -qa '\(Self.secret)' && echo \"$b\"; done; true"])
        #expect(layers.stdout.isEmpty, "secret in a blob: \(layers.stdout)")
        // Other tests' builds may have step scratch of their own on /dev/shm right now: what
        // must be gone is every copy of this test's secret (file and env-bundle forms).
        let shm = try await BuildHarness.run(["/bin/sh", "-c", "grep -rla '\(Self.secret)' /dev/shm/slipway-step-* 2>/dev/null; true"])
        #expect(shm.stdout.isEmpty, "secret scratch left behind: \(shm.stdout)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("a required secret that was not given fails with the line and what to pass")
    func requiredMissing() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", "FROM busybox\nRUN --mount=type=secret,id=npm_token,required=true cat /run/secrets/npm_token\n")
        let r = try await s.build([])
        #expect(r.status != 0)
        #expect(r.stderr.contains("Dockerfile:2") && r.stderr.contains("npm_token") && r.stderr.contains("--secret"), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
