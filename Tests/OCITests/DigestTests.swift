import Foundation
import Testing
@testable import OCI

@Suite struct DigestTests {
    @Test func knownVector() {
        #expect(Digest.sha256("abc").description
            == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256(Data()).encoded
            == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func incrementalEqualsOneShot() {
        let data = Data((0..<100_000).map { UInt8($0 % 251) })
        var h = SHA256Hasher()
        h.update(data.prefix(12345))
        h.update(data.dropFirst(12345))
        #expect(h.finalize() == Digest.sha256(data))
    }

    @Test(arguments: ["sha256:abc", "nocolon", "sha256:" + String(repeating: "A", count: 64), ":x"])
    func rejectsMalformed(_ s: String) {
        #expect(throws: Digest.ParseError.self) { try Digest(parsing: s) }
    }

    /// The encoded part names a file under blobs/: a digest from a manifest must never be able
    /// to point elsewhere.
    @Test(arguments: ["sha512:../../../../etc/passwd", "sha384:a/b", "sha512:..", "sha256/x:abc", "SHA256:abc",
                      "+sha:abc", "sha256+:abc", "sha512:a b", "sha512:"])
    func rejectsPathsAndBadAlgorithms(_ s: String) {
        #expect(throws: Digest.ParseError.self) { try Digest(parsing: s) }
    }

    @Test(arguments: ["sha512:" + String(repeating: "ab", count: 64),
                      "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
                      "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"])
    func acceptsOtherRegisteredForms(_ s: String) throws {
        #expect(try Digest(parsing: s).description == s)
    }

    @Test func storeNeverResolvesNonSHA256DigestsToFiles() throws {
        let t = try TempStore()
        let evil = Digest(algorithm: "sha512", encoded: "../../../../../../etc/hostname")
        #expect(t.store.content.blobSize(evil) == nil)
        #expect(throws: StoreError.self) { _ = try t.store.content.openBlob(evil) }
        #expect(throws: StoreError.self) { _ = try t.store.content.readBlob(evil) }
    }

    @Test func parsesAndRoundTripsJSON() throws {
        let d = Digest.sha256("x")
        let json = try JSONEncoder().encode([d])
        #expect(try JSONDecoder().decode([Digest].self, from: json) == [d])
        #expect(try Digest(parsing: d.description) == d)
    }
}
