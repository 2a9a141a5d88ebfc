import Testing
import TestSupport
@testable import Inspect

/// The offline stand-ins of the article's Rust and Java examples lint as the article's own text
/// does: the Rust one is the article's Dockerfile (its two findings are `ArticleLintTests`'),
/// the Java one keeps every fix (non-root final stage, no apt) and must stay clean.
@Suite struct ArticleExamplesLintTests {
    @Test func javaExampleIsClean() throws {
        let result = try Linter.lint(text: ArticleExamples.javaDockerfile,
                                     options: LintOptions(dockerignore: "build\ntarget\nDockerfile\n", target: nil))
        #expect(result.findings.isEmpty, "\(result.renderText())")
    }

    @Test func rustExampleIsTheArticles() {
        #expect(ArticleExamples.rustDockerfile == ArticleDockerfiles.rust)
    }
}
