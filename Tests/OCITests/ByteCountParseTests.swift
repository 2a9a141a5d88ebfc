import Testing
import OCI

/// `ByteCount.parse` reads sizes as docker's `units.RAMInBytes` does (binary units).
@Suite struct ByteCountParseTests {
    @Test func dockerSizes() {
        #expect(ByteCount.parse("512") == 512)
        #expect(ByteCount.parse("80k") == Int64(81_920))
        #expect(ByteCount.parse("10MB") == Int64(10_485_760))
        #expect(ByteCount.parse("1.5g") == 1_610_612_736)
        #expect(ByteCount.parse("2 GiB") == Int64(2_147_483_648))
        #expect(ByteCount.parse("1tb") == 1 << 40)
        #expect(ByteCount.parse("lots") == nil)
        #expect(ByteCount.parse("-1") == nil)
        #expect(ByteCount.parse("10x") == nil)
        #expect(ByteCount.parse("") == nil)
    }
}
