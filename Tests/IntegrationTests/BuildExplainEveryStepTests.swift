import Foundation
import Testing
import TestSupport

/// Issue 12, "Explain every build": the bytes each step wrote (uncompressed) beside its layer's
/// compressed size; where a cached step came from (the local cache, a cache `--cache-from`
/// imported, or it ran); what a `--cache-to` export cost and which exported records no later
/// build used; and `build --load`.
@Suite("Build: explain every build", .serialized, .requires(BuildHarness.requirements))
struct BuildExplainEveryStepTests {
    static func metadata(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    static func step(_ steps: [[String: Any]], _ text: String) throws -> [String: Any] {
        try #require(steps.first { ($0["name"] as? String)?.contains(text) == true }, "no step \(text) in \(steps)")
    }

    /// The columns of the `--explain` row whose instruction contains `text` (split on runs of
    /// two or more spaces: sizes like `12 B` stay one cell).
    static func explainRow(_ r: BuildHarness.Result, _ text: String) throws -> [String] {
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("STEP  STATUS  CACHE") }, "no --explain table: \(r.stderr)")
        let line = try #require(lines[(header + 1)...].first { $0.contains(text) }, "no row \(text): \(r.stderr)")
        return line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    @Test("a step's uncompressed bytes: layer event, --explain, metadata file, build record; the same from the cache")
    func uncompressedBytesWritten() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox")
        // 300 KiB of zeros: a large tar, a tiny gzip.
        try s.write("Dockerfile", "FROM busybox\nRUN dd if=/dev/zero of=/zeros bs=1024 count=300\nENV A=1\n")
        let meta = s.root + "/meta.json"
        let json = try await s.slipway(["build", "--progress", "json", "-t", "bytes:1", "--metadata-file", meta, s.context])
        try #require(json.status == 0, "\(json.combined)")
        let layers = BuildSandbox.events(json).filter { $0["event"] as? String == "layer" }
        try #require(layers.count == 1, "one filesystem step, one layer: \(json.stderr)")
        let written = try #require(layers[0]["uncompressedBytes"] as? Int64, "\(layers[0])")
        let compressed = try #require(layers[0]["bytes"] as? Int64)
        #expect(written >= 300 * 1024 && written < 300 * 1024 + 16 * 1024, "a tar of one 300 KiB file: \(written)")
        #expect(compressed < written / 10, "zeros compress: \(compressed) of \(written)")

        let steps = try #require(try Self.metadata(meta)["slipway.steps"] as? [[String: Any]])
        let run = try Self.step(steps, "RUN dd")
        #expect(run["uncompressedBytes"] as? Int64 == written && run["layerBytes"] as? Int64 == compressed, "\(run)")
        #expect(try Self.step(steps, "FROM busybox")["uncompressedBytes"] == nil, "FROM writes nothing: \(steps)")

        // From the cache: the same figures, in the table and in the build record.
        let again = try await s.build(["-t", "bytes:1", "--explain"])
        try #require(again.status == 0, "\(again.combined)")
        let row = try Self.explainRow(again, "RUN dd")
        // STEP STATUS CACHE TIME CPU LAYER WRITTEN INSTRUCTION
        #expect(row[1] == "CACHED" && row[2] == "local", "\(row)")
        #expect(row[6] == String(format: "%.0f kB", Double(written) / 1000), "WRITTEN is the uncompressed size: \(row) (\(written))")
        let history = try await s.slipway(["history", "--builds", "bytes:1", "--format", "json", "--last", "1"])
        try #require(history.status == 0, "\(history.combined)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any])
        let recorded = try Self.step(try #require(record["steps"] as? [[String: Any]]), "RUN dd")
        #expect(recorded["uncompressedBytes"] as? Int64 == written && recorded["cache"] as? String == "local", "\(recorded)")
    }

    @Test("--cache-from records are 'imported', this store's own 'local', re-run steps 'ran': json, --explain, metadata, records")
    func cacheOrigin() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox")
        try s.write("Dockerfile", "FROM busybox\nRUN echo one > /one\nRUN echo two > /two\n")
        let dir = s.root + "/cache-dir"
        let first = try await s.build(["-t", "origin:1", "--cache-to", "type=local,dest=\(dir),mode=max"])
        try #require(first.status == 0, "\(first.combined)")
        // Forget the records (the image keeps its layers), then bring them back from the cache.
        let pruned = try await s.slipway(["prune", "-f", "--cache"])
        try #require(pruned.status == 0, "\(pruned.combined)")
        let meta = s.root + "/meta.json"
        let imported = try await s.slipway(["build", "--progress", "json", "-t", "origin:1", "--metadata-file", meta,
                                            "--cache-from", "type=local,src=\(dir)", s.context])
        try #require(imported.status == 0, "\(imported.combined)")
        let cached = BuildSandbox.events(imported).filter { $0["event"] as? String == "cached" }
        #expect(cached.count == 2 && cached.allSatisfy { $0["cache"] as? String == "imported" && $0["importedFrom"] as? String == dir },
                "\(imported.stderr)")
        let steps = try #require(try Self.metadata(meta)["slipway.steps"] as? [[String: Any]])
        #expect(try Self.step(steps, "RUN echo one")["cache"] as? String == "imported", "\(steps)")
        #expect(try Self.step(steps, "RUN echo one")["importedFrom"] as? String == dir, "\(steps)")

        // An edit re-runs the last step; the first stays an imported hit.
        try s.write("Dockerfile", "FROM busybox\nRUN echo one > /one\nRUN echo TWO > /two\n")
        let edited = try await s.build(["-t", "origin:1", "--explain"])
        try #require(edited.status == 0, "\(edited.combined)")
        #expect(try Self.explainRow(edited, "RUN echo one")[2] == "imported", "\(edited.stderr)")
        #expect(try Self.explainRow(edited, "RUN echo one").last == "(imported from \(dir))", "\(edited.stderr)")
        #expect(try Self.explainRow(edited, "RUN echo TWO")[1...2] == ["RAN", "ran"], "\(edited.stderr)")
        // Its record was written here: a local hit next time.
        let again = try await s.build(["-t", "origin:1", "--explain"])
        try #require(again.status == 0, "\(again.combined)")
        #expect(try Self.explainRow(again, "RUN echo TWO")[1...2] == ["CACHED", "local"], "\(again.stderr)")
        #expect(try Self.explainRow(again, "RUN echo one")[2] == "imported", "\(again.stderr)")
        let history = try await s.slipway(["history", "--builds", "origin:1", "--format", "json", "--last", "1"])
        let record = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any])
        let recorded = try #require(record["steps"] as? [[String: Any]])
        #expect(try Self.step(recorded, "RUN echo one")["cache"] as? String == "imported", "\(recorded)")
        #expect(try Self.step(recorded, "RUN echo TWO")["cache"] as? String == "local", "\(recorded)")
        let compare = try await s.slipway(["history", "--compare", record["id"] as? String ?? "", (record["id"] as? String) ?? ""])
        #expect(compare.stdout.contains("CACHED imported") && compare.stdout.contains("CACHED local"), "\(compare.combined)")
    }

    @Test("--cache-to: each record's bytes and time, written vs already there; history --unused-exports lists what no later build hit")
    func cacheExportCostAndUnusedRecords() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox")
        try s.write("Dockerfile", "FROM busybox\nRUN echo one > /one\nRUN echo two > /two\n")
        // Shares only its first RUN with the Dockerfile above.
        try s.write("Other.Dockerfile", "FROM busybox\nRUN echo one > /one\nRUN echo other > /other\n")
        let dir = s.root + "/cache-dir"
        let meta = s.root + "/meta.json"
        let first = try await s.build(["-t", "cost:1", "--cache-to", "type=local,dest=\(dir),mode=max", "--metadata-file", meta])
        try #require(first.status == 0, "\(first.combined)")
        let exports = try #require(try Self.metadata(meta)["slipway.cacheExports"] as? [[String: Any]], "\(first.stderr)")
        let withLayers = exports.filter { $0["layer"] != nil }
        #expect(withLayers.count == 2 && withLayers.allSatisfy { $0["state"] as? String == "written" && $0["destination"] as? String == dir },
                "\(exports)")
        let layerBytes = withLayers.compactMap { $0["bytes"] as? Int64 }.reduce(0, +)
        let blobs = try FileManager.default.contentsOfDirectory(atPath: dir + "/blobs/sha256")
        #expect(withLayers.allSatisfy { l in blobs.contains { "sha256:" + $0 == l["layer"] as? String } }, "\(exports) \(blobs)")
        let summary = try #require(first.stderr.split(separator: "\n").first { $0.contains("cache to \(dir):") }, "\(first.stderr)")
        #expect(summary.contains("2 layers written (\(layerBytes) B), 0 already there (0 B)"), "\(summary)")

        // The same export again: every layer is already there, nothing written.
        let json = try await s.slipway(["build", "--progress", "json", "-t", "cost:1", "--cache-to", "type=local,dest=\(dir),mode=max", s.context])
        try #require(json.status == 0, "\(json.combined)")
        let events = BuildSandbox.events(json).filter { $0["event"] as? String == "cache-exported" && $0["layer"] != nil }
        #expect(events.count == 2 && events.allSatisfy { $0["state"] as? String == "present" && $0["seconds"] is Double }, "\(json.stderr)")
        let note = BuildSandbox.events(json).compactMap { $0["message"] as? String }.first { $0.hasPrefix("cache to ") } ?? ""
        #expect(note.contains("0 layers written (0 B), 2 already there (\(layerBytes) B)"), "\(json.stderr)")

        // Exported after this build's own hits: no later build has hit any of them yet.
        let unused = try await s.slipway(["history", "--unused-exports", "--format", "json"])
        try #require(unused.status == 0, "\(unused.combined)")
        func keys(_ r: BuildHarness.Result) -> Set<String> {
            Set(r.stdout.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["key"] as? String })
        }
        let exported = Set(events.compactMap { $0["key"] as? String })
        #expect(exported.isSubset(of: keys(unused)), "\(unused.stdout)")
        let line = try #require(try JSONSerialization.jsonObject(with: Data((unused.stdout.split(separator: "\n").first ?? "").utf8)) as? [String: Any])
        #expect((line["exportedAt"] as? String)?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"#, options: .regularExpression) != nil
                && line["destination"] as? String == dir && line["layer"] is String, "\(line)")
        // A later build that shares the first RUN: that record is used, the second is not.
        let other = try await s.slipway(["build", "--progress", "json", "-f", s.context + "/Other.Dockerfile", s.context])
        try #require(other.status == 0, "\(other.combined)")
        let stillUnused = keys(try await s.slipway(["history", "--unused-exports", "--format", "json"]))
        #expect(stillUnused.intersection(exported).count == 1, "one of the two layer records was hit: \(stillUnused) of \(exported)")
        let table = try await s.slipway(["history", "--unused-exports"])
        #expect(table.stdout.hasPrefix("DESTINATION") && table.stdout.contains("LAST HIT") && table.stdout.split(separator: "\n").filter { $0.contains(dir) }.count == 1, "\(table.stdout)")
        // The original build hits both: nothing it exported is unused any more.
        try #require(try await s.build(["-t", "cost:1"]).status == 0)
        #expect(keys(try await s.slipway(["history", "--unused-exports", "--format", "json"])).intersection(exported).isEmpty)
    }
}

/// `build --load` without a daemon: no `docker` on PATH is a clear error before anything is
/// built; a `docker` on PATH gets the image's docker-archive on its stdin (a stand-in script
/// that keeps what it read), and a failing `docker load` fails the build with docker's words.
/// With a real dockerd: `DifferentialTests.buildLoad`.
@Suite("Build: --load", .serialized, .requires(BuildHarness.requirements + [.python3]))
struct BuildLoadTests {
    func run(_ s: BuildSandbox, _ args: [String], path: String) async throws -> BuildHarness.Result {
        try await BuildHarness.run([BuildHarness.binary, "build", "--progress", "plain"] + args + ["--root", s.store, s.context],
                                   cwd: s.context, env: ["PATH": path])
    }

    @Test("no docker on PATH: the build refuses at once and names what to use instead")
    func noDocker() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox")
        try s.write("Dockerfile", "FROM busybox\nRUN echo hi > /hi\n")
        let empty = s.root + "/empty-bin"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let r = try await run(s, ["--load", "-t", "load:1"], path: empty)
        #expect(r.status == 1, "\(r.combined)")
        #expect(r.stderr.contains("error: --load needs the docker CLI, and there is no `docker` on PATH"), "\(r.stderr)")
        #expect(r.stderr.contains("slipway save --format docker IMAGE | docker load") && r.stderr.contains("-o type=docker,dest=FILE"), "\(r.stderr)")
        #expect(!r.stderr.contains("RUN echo hi"), "nothing is built: \(r.stderr)")
    }

    @Test("a docker on PATH reads the docker-archive on its stdin; a failing docker load fails the build")
    func pipesTheArchive() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox")
        try s.write("Dockerfile", "FROM busybox\nRUN echo hi > /hi\n")
        let bin = s.root + "/fake-bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let received = s.root + "/received.tar"
        let script = "#!/bin/sh\n[ \"$1\" = load ] || exit 2\nif [ -n \"$FAIL\" ]; then cat >/dev/null; echo 'Cannot connect to the Docker daemon' >&2; exit 1; fi\n"
            + "cat > \(received)\necho 'Loaded image: load:1'\n"
        try script.write(toFile: bin + "/docker", atomically: true, encoding: .utf8)
        chmod(bin + "/docker", 0o755)
        let r = try await run(s, ["--load", "-t", "load:1"], path: bin + ":/usr/bin:/bin")
        try #require(r.status == 0, "\(r.combined)")
        #expect(r.stderr.contains("Loaded image: load:1"), "docker's answer is shown: \(r.stderr)")
        // What docker got is the docker-archive `slipway save` writes: manifest.json names the tag.
        let listing = try await BuildHarness.run(["/usr/bin/python3", "-c", """
            import json, sys, tarfile
            t = tarfile.open(sys.argv[1])
            print(json.dumps(json.load(t.extractfile("manifest.json"))))
            """, received])
        try #require(listing.status == 0, "\(listing.combined)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [[String: Any]])
        #expect(manifest.first?["RepoTags"] as? [String] == ["load:1"], "\(listing.stdout)")
        let id = try #require(BuildSandbox.imageID(r))
        #expect((manifest.first?["Config"] as? String)?.contains(String(id.dropFirst(7))) == true, "\(manifest) \(id)")

        let failed = try await BuildHarness.run([BuildHarness.binary, "build", "--progress", "plain", "--load", "-t", "load:1", "--root", s.store, s.context],
                                                cwd: s.context, env: ["PATH": bin + ":/usr/bin:/bin", "FAIL": "1"])
        #expect(failed.status == 1, "\(failed.combined)")
        #expect(failed.stderr.contains("docker load failed (exit code 1): Cannot connect to the Docker daemon"), "\(failed.stderr)")
        #expect(failed.stderr.contains("slipway save --format docker IMAGE | docker load"), "\(failed.stderr)")
    }
}
