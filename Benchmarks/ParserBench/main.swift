// Parser benchmark: parse + type + resolve the stage graph of a generated 60-stage,
// 600-instruction Dockerfile. Run with scripts/bench-parser.sh (release build).
import Dockerfile
import Foundation

#if canImport(Glibc)
import Glibc
#endif

func generate(stages: Int, instructions: Int) -> String {
    var lines = ["# syntax=docker/dockerfile:1", "ARG GO_VERSION=1.22", "ARG BASE=debian:bookworm-slim"]
    let perStage = instructions / stages - 1  // FROM counts as one instruction
    for s in 0..<stages {
        if s == 0 {
            lines.append("FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS stage\(s)")
        } else if s % 3 == 0 {
            lines.append("FROM ${BASE} AS stage\(s)")
        } else {
            lines.append("FROM stage\(s - 1) AS stage\(s)")
        }
        for i in 0..<perStage {
            switch i % 9 {
            case 0: lines.append("ARG VERSION_\(i)=${GO_VERSION}-\(s)")
            case 1: lines.append("ENV PATH=/opt/s\(s)/bin:$PATH \\\n    HOME=/root LANG=C.UTF-8")
            case 2: lines.append("RUN --mount=type=cache,target=/root/.cache/s\(s),sharing=locked \\\n    apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \\\n    && rm -rf /var/lib/apt/lists/*")
            case 3:
                let from = s >= 2 ? "--from=stage\(s - 2) " : ""
                lines.append("COPY \(from)--chown=1000:1000 --chmod=0755 /out/\(i) /app/\(i)/")
            case 4: lines.append("WORKDIR /src/${VERSION_0}")
            case 5: lines.append("LABEL org.opencontainers.image.version=\"\(s).\(i)\" maintainer=\"team@example.com\"")
            case 6: lines.append("RUN <<EOF\nset -e\necho stage \(s) step \(i)\nmake -j4 all\nEOF")
            case 7: lines.append("EXPOSE 80\(s % 10)/tcp 443")
            default: lines.append("CMD [\"/app/server\", \"--port\", \"80\(s % 10)\"]")
            }
        }
    }
    return lines.joined(separator: "\n") + "\n"
}

func now(_ clock: clockid_t = CLOCK_MONOTONIC) -> Double {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let text = generate(stages: 60, instructions: 600)
let check = try StageGraph.resolve(text)
let instructionCount = check.model.parsed.nodes.count
precondition(check.stages.count == 60, "expected 60 stages")

let iterations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200 : 200
// Wall time suffers when other work shares the CPU; thread CPU time is the work itself.
var wall: [Double] = []
var cpu: [Double] = []
for _ in 0..<iterations {
    let t0 = now(), c0 = now(CLOCK_THREAD_CPUTIME_ID)
    let graph = try StageGraph.resolve(text)
    let c1 = now(CLOCK_THREAD_CPUTIME_ID), t1 = now()
    precondition(graph.stages.count == 60)
    wall.append((t1 - t0) * 1000)
    cpu.append((c1 - c0) * 1000)
}
wall.sort()
cpu.sort()
print("parse + resolve: \(check.stages.count) stages, \(instructionCount) instructions, \(text.utf8.count) bytes, \(iterations) runs")
print(String(format: "cpu  median %.3f ms, p90 %.3f ms, min %.3f ms (target < 5 ms)", cpu[cpu.count / 2], cpu[cpu.count * 9 / 10], cpu[0]))
print(String(format: "wall median %.3f ms, p90 %.3f ms, min %.3f ms", wall[wall.count / 2], wall[wall.count * 9 / 10], wall[0]))
