import Foundation
import OCI
@testable import Registry

/// Random bytes written to a temp file, with their digest: a stand-in layer blob.
struct TestBlob {
    let data: Data
    let digest: Digest
    let url: URL

    init(size: Int, in dir: TempDir, name: String = UUID().uuidString) throws {
        var bytes = [UInt8](repeating: 0, count: size)
        var rng = SystemRandomNumberGenerator()
        for i in stride(from: 0, to: size, by: 8) {
            let r = rng.next() as UInt64
            for j in 0..<min(8, size - i) { bytes[i + j] = UInt8(truncatingIfNeeded: r >> (8 * j)) }
        }
        data = Data(bytes)
        digest = Digest.sha256(data)
        url = dir.file(name)
        try data.write(to: url)
    }
}

/// A minimal OCI image manifest over a config and layers.
func makeManifest(config: Digest, configSize: Int, layers: [(Digest, Int)]) -> Data {
    let layerJSON = layers.map {
        #"{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\#($0.0)","size":\#($0.1)}"#
    }.joined(separator: ",")
    return Data(#"""
    {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(config)","size":\#(configSize)},"layers":[\#(layerJSON)]}
    """#.utf8)
}

func makeClient(_ host: String, credentials: RegistryCredentials? = nil, retry: RetryPolicy = RetryPolicy(baseDelay: 0.05),
                chunkSize: Int? = nil) throws -> RegistryClient {
    RegistryClient(host: try RegistryHost(host), credentials: credentials,
                   options: RegistryClientOptions(retry: retry, chunkSize: chunkSize, requestTimeout: 20))
}
