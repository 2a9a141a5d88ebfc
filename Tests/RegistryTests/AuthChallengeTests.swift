import Testing
@testable import Registry

@Suite struct AuthChallengeTests {
    @Test func bearerWithQuotedCommas() throws {
        let c = try #require(AuthChallenge(header: #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#))
        #expect(c.isBearer)
        #expect(c.realm == "https://auth.docker.io/token")
        #expect(c.service == "registry.docker.io")
        #expect(c.scope == "repository:library/alpine:pull,push")
    }

    @Test func basicAndOddSpacing() throws {
        let c = try #require(AuthChallenge(header: #"Basic realm="Registry Realm""#))
        #expect(c.isBasic)
        #expect(c.realm == "Registry Realm")
        let d = try #require(AuthChallenge(header: #"bearer  realm = "r\"x" , error="insufficient_scope""#))
        #expect(d.isBearer)
        #expect(d.realm == #"r"x"#)
        #expect(d.parameters["error"] == "insufficient_scope")
        #expect(AuthChallenge(header: "") == nil)
    }
}
