import Testing
@testable import Dockerfile

@Suite struct IgnoreMatcherTests {
    @Test func patternSemantics() throws {
        let m = try IgnoreMatcher(ignoreFile: """
        # comment
        *.log
        /build
        node_modules
        **/*.tmp
        docs/**
        !docs/keep.md
        src/?.c
        img/[a-c]*.png
        !important.log
        """)
        #expect(!m.includes("app.log"))
        #expect(m.includes("important.log"))
        #expect(m.includes("sub/app.log"))  // `*` does not cross `/`
        #expect(!m.includes("build"))
        #expect(!m.includes("build/out/x"))  // a parent directory matches
        #expect(!m.includes("node_modules/x/y.js"))
        #expect(m.includes("src/node_modules"))
        #expect(!m.includes("a/b/c.tmp"))
        #expect(!m.includes("x.tmp"))
        #expect(!m.includes("docs/a/b.md"))
        #expect(m.includes("docs/keep.md"))
        #expect(!m.includes("src/a.c"))
        #expect(m.includes("src/ab.c"))
        #expect(!m.includes("img/b1.png"))
        #expect(m.includes("img/d1.png"))
        #expect(m.includes("main.go"))
        #expect(m.includes("."))
    }

    @Test func exceptionsInOrderAndDirectories() throws {
        let m = try IgnoreMatcher(patterns: ["*", "!src", "src/*.bak"])
        #expect(!m.includes("README.md"))
        #expect(m.includes("src/main.c"))
        #expect(!m.includes("src/old.bak"))
        #expect(m.mightIncludeUnder("src"))
        #expect(!m.mightIncludeUnder("vendor"))
        let n = try IgnoreMatcher(patterns: ["vendor", "!vendor/keep"])
        #expect(n.mightIncludeUnder("vendor"))
        #expect(n.includes("vendor/keep"))
        #expect(!n.includes("vendor/other"))
        let o = try IgnoreMatcher(patterns: ["vendor"])
        #expect(!o.mightIncludeUnder("vendor"))
        #expect(o.mightIncludeUnder("src"))
    }

    @Test func leadingSlashAndCleaning() throws {
        let m = try IgnoreMatcher(ignoreFile: "/a/../b\n ./c/ \n")
        #expect(m.patterns.map(\.text) == ["b", "c"])
        #expect(!m.includes("/b"))
        #expect(!m.includes("./c/d"))
    }

    @Test func goRegexpQuirksLikePatternmatcher() throws {
        // patternmatcher hands `\\b` and a bare `^` to Go's regexp engine.
        let m = try IgnoreMatcher(patterns: ["a\\b", "x*^y", "?\\d"])
        #expect(!m.includes("a"))       // `a` then a word boundary at the end
        #expect(m.includes("ab"))
        #expect(m.includes("x^y"))      // `^` anchors at the start, so never matches here
        #expect(!m.includes("q7"))
        // An exception with wildcards means excluded directories must still be walked.
        let w = try IgnoreMatcher(patterns: ["vendor", "!**/*.go"])
        #expect(w.mightIncludeUnder("vendor"))
        #expect(w.includes("vendor/x/main.go"))
        #expect(!w.includes("vendor/x/README"))
    }

    @Test func badPatternsRejected() {
        #expect(throws: DockerfileError.self) { try IgnoreMatcher(patterns: ["!"]) }
        #expect(throws: DockerfileError.self) { try IgnoreMatcher(patterns: ["a[b"]) }
        #expect(throws: DockerfileError.self) { try IgnoreMatcher(patterns: ["a\\"]) }
        #expect(throws: DockerfileError.self) { try IgnoreMatcher(patterns: ["[]a]"]) }
        #expect(throws: DockerfileError.self) { try IgnoreMatcher(patterns: ["[a-]"]) }
    }

    @Test func dockerfileSpecificIgnoreWins() throws {
        let m = try IgnoreMatcher.forBuild(dockerfileSpecific: "secret\n", contextIgnore: "*.md\n")
        #expect(!m.includes("secret") && m.includes("README.md"))
        let c = try IgnoreMatcher.forBuild(dockerfileSpecific: nil, contextIgnore: "*.md\n")
        #expect(!c.includes("README.md"))
    }
}
