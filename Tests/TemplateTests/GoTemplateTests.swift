import Foundation
import Testing
@testable import Template

/// Expected outputs are what Go's text/template and docker's template functions print
/// (docs.docker.com "Format command and log output", pkg.go.dev/text/template).
@Suite struct GoTemplateTests {
    let image: TemplateValue = .object([
        "ID": .string("0123456789ab"), "Repository": .string("app"), "Tag": .string("1.0"), "SizeBytes": .int(4_700_000),
        "RepoTags": .array([.string("app:1.0"), .string("app:latest")]),
        "Config": .object([
            "Env": .array([.string("PATH=/usr/bin"), .string("MODE=prod")]),
            "Labels": .object(["org.opencontainers.image.title": .string("App"), "b": .string("2")]),
            "Cmd": .null,
        ]),
        "Empty": .array([]),
    ])

    func render(_ source: String, _ data: TemplateValue? = nil) throws -> String {
        try GoTemplate(source).render(data ?? image)
    }

    @Test func fieldsAndText() throws {
        #expect(try render("{{.Repository}}:{{.Tag}}") == "app:1.0")
        #expect(try render("id={{ .ID }} size={{.SizeBytes}}") == "id=0123456789ab size=4700000")
        #expect(try render("{{.Config.Env}}") == "[PATH=/usr/bin MODE=prod]")
        #expect(try render("{{.Config.Labels}}") == "map[b:2 org.opencontainers.image.title:App]")
        #expect(try render("{{.Nope}}") == "<no value>")
        #expect(try render("{{.Config.Cmd}}") == "<nil>")
        #expect(try render("{{.}}", .string("x")) == "x")
        #expect(try render("{{/* a comment */}}plain") == "plain")
    }

    @Test func dockerFunctions() throws {
        #expect(try render("{{json .Config.Env}}") == #"["PATH=/usr/bin","MODE=prod"]"#)
        #expect(try render("{{json .Config.Labels}}") == #"{"b":"2","org.opencontainers.image.title":"App"}"#)
        #expect(try render("{{json .Config.Cmd}}") == "null")
        #expect(try render("{{json .Empty}}") == "[]")
        #expect(try render("{{json \"<a&b>\"}}") == #""<a&b>""#)   // no HTML escaping, as docker's
        #expect(try render("{{join .RepoTags \", \"}}") == "app:1.0, app:latest")
        #expect(try render("{{upper .Repository}} {{lower \"ABC\"}} {{title \"hello world\"}}") == "APP abc Hello World")
        #expect(try render("{{split \"a:b:c\" \":\"}}") == "[a b c]")
        #expect(try render("{{index .Config.Labels \"org.opencontainers.image.title\"}}") == "App")
        #expect(try render("{{index .Config.Labels \"missing\"}}") == "")
        #expect(try render("{{index .RepoTags 1}}") == "app:latest")
        #expect(try render("{{.Repository | upper}}") == "APP")
        #expect(try render("{{.RepoTags | len}}") == "2")
        #expect(try render("{{truncate .ID 4}}") == "0123")
        #expect(try render("{{println .Tag}}") == "1.0\n")
        #expect(try render("{{printf \"%-5s|%3d\" .Tag 7}}") == "1.0  |  7")
        #expect(try render("{{(index .RepoTags 0) | upper}}") == "APP:1.0")
    }

    @Test func rangeIfWithAndVariables() throws {
        #expect(try render("{{range .Config.Env}}{{println .}}{{end}}") == "PATH=/usr/bin\nMODE=prod\n")
        #expect(try render("{{range $i, $e := .RepoTags}}{{$i}}={{$e}};{{end}}") == "0=app:1.0;1=app:latest;")
        #expect(try render("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}") == "b=2 org.opencontainers.image.title=App ")
        #expect(try render("{{range .Empty}}x{{else}}none{{end}}") == "none")
        #expect(try render("{{if .Config.Cmd}}cmd{{else if .RepoTags}}tags{{else}}none{{end}}") == "tags")
        #expect(try render("{{if eq .Tag \"1.0\"}}one{{end}}{{if ne .Tag \"1.0\"}}other{{end}}") == "one")
        #expect(try render("{{if and .Tag (not .Empty)}}yes{{end}}") == "yes")
        #expect(try render("{{if gt .SizeBytes 1000000}}big{{end}}") == "big")
        #expect(try render("{{with .Config}}{{len .Env}}{{end}}") == "2")
        #expect(try render("{{$r := .Repository}}{{range .RepoTags}}{{$r}} {{end}}") == "app app ")
        #expect(try render("{{range .RepoTags}}{{$.ID}} {{end}}") == "0123456789ab 0123456789ab ")
        #expect(try render("a  {{- .Tag -}}  b\n{{- \"c\"}}") == "a1.0bc")
    }

    @Test func fieldsOfTheDataAreChecked() throws {
        let t = try GoTemplate("{{.Tag}}|{{.Author}}|{{range .RepoTags}}{{.}} {{end}}|{{with .Config}}{{.Whatever}}{{end}}|{{$.ID}}")
        let fields: Set<String> = ["ID", "Repository", "Tag", "SizeBytes", "RepoTags", "Config", "Empty", "Author"]
        #expect(try t.render(image, fields: fields) == "1.0||app:1.0 app:latest |<no value>|0123456789ab")
        #expect(throws: TemplateError(line: 1, column: 2, message: "can't evaluate field Repositry: the fields are Author, Config, Empty, ID, RepoTags, Repository, SizeBytes, Tag")) {
            try GoTemplate("{{.Repositry}}").render(image, fields: fields)
        }
        #expect(throws: TemplateError.self) { try GoTemplate("{{range .RepoTags}}{{$.Nope}}{{end}}").render(image, fields: fields) }
    }

    @Test func tableHeadersComeFromTheFields() throws {
        let t = try GoTemplate("{{.ID}}\t{{.Repository | lower}}\t{{.Other}}")
        #expect(try t.render(.object([:]), headers: ["ID": "IMAGE ID", "Repository": "REPOSITORY"]) == "IMAGE ID\trepository\tOTHER")
    }

    @Test func errorsNameThePosition() {
        func error(_ source: String, _ data: TemplateValue? = nil) -> String {
            do {
                _ = try GoTemplate(source).render(data ?? image)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(error("{{.ID | nosuch}}") == #"template: :1:8: function "nosuch" not defined"#)
        #expect(error("ok\n  {{.ID") == "template: :2:2: unclosed action")
        #expect(error("{{if .ID}}x") == "template: :1:10: unexpected EOF: missing {{end}}")
        #expect(error("{{end}}") == "template: :1:2: unexpected {{end}}")
        #expect(error("{{.ID.Foo}}") == "template: :1:2: can't evaluate field Foo in .ID (0123456789ab)")
        #expect(error("{{.ID .Tag}}") == "template: :1:2: can't give argument to non-function .ID")
        #expect(error("{{index .RepoTags 5}}") == "template: :1:2: error calling index: index out of range: 5")
        #expect(error("{{$x}}") == #"template: :1:2: undefined variable "$x""#)
        #expect(error("{{\"abc}}") == "template: :1:2: unterminated quoted string")
        #expect(error("{{.ID}}\n{{\"a\nb\"}} {{.ID | nosuch}}") == #"template: :3:13: function "nosuch" not defined"#)
    }
}
