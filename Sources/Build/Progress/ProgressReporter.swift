import CLinux
import Foundation
import OCI
import System

/// Receives progress events from concurrently running stages and renders them. An actor, so
/// output from parallel stages never interleaves mid-line.
///
/// Output is written with plain write(2), never `FileHandle.write(_:)` (which traps on an error).
/// The first failed write (EPIPE once the reader of a pipe left) stops all further output and
/// cancels the work run through `stoppingOnOutputFailure`: a build whose log nobody reads any
/// more stops cleanly rather than running on, or dying of SIGPIPE with its mounts left behind.
public actor ProgressReporter {
    public let mode: ProgressMode
    private let err: FileHandle
    private let out: FileHandle
    private let clock = ContinuousClock()
    /// tty colours, unless `NO_COLOR` is set to anything (no-color.org); the cursor movement
    /// of the live view stays.
    private let color = (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    private let start: ContinuousClock.Instant
    /// The wall-clock time of `start`, for the timestamps of `rawjson`.
    private let startDate = Date()

    private struct Step {
        var name: String
        var started: ContinuousClock.Instant
        var tail: [String] = []
        var done = false
        var printedLines = 0
    }
    private var steps: [Int: Step] = [:]
    private var running: [Int] = []
    /// Lines of the live area currently on screen (tty mode).
    private var liveLines = 0
    private var ticker: Task<Void, Never>?
    /// Every line of every step's output, kept for error reports (last lines of the failing step).
    private var fullTail: [Int: [String]] = [:]
    private var nextID = 0
    /// Every step's outcome in order, for `build --explain`.
    private var summaries: [StepSummary] = []
    /// What each `--cache-to` export cost, record by record (`cacheExported` events).
    private var exports: [CacheExportCost] = []

    /// One step of the build as `--explain` shows it.
    public struct StepSummary: Sendable, Equatable {
        public enum Status: String, Sendable { case cached = "CACHED", ran = "RAN", failed = "ERROR" }
        public var step: Int
        public var name: String
        public var status: Status
        /// Why it missed the cache (nil for a hit).
        public var reason: String?
        /// Wall time of a step that ran, in seconds.
        public var seconds: Double?
        /// When it started (or was found cached), in seconds since the build started: the timeline.
        public var start: Double?
        /// The compressed size of the layer it made or took from the cache (nil: no layer).
        public var layerBytes: Int64?
        /// The bytes the step wrote to its layer: the uncompressed tar's size (nil: no layer, or
        /// a layer whose size the store does not know).
        public var uncompressedBytes: Int64?
        /// CPU time of a RUN that ran (nil for other steps).
        public var cpuSeconds: Double?
        /// For a cached step, the `--cache-from` cache its record was imported from; nil for a
        /// local hit (a record a build in this store wrote) and for steps that ran.
        public var importedFrom: String?
        /// False for a step read back from a build record written before the cache source was
        /// kept: `cacheSource` is then unknown (nil), not guessed.
        public var cacheSourceKnown = true

        /// Where the step's result came from: `local` (this store's cache), `imported` (a record
        /// `--cache-from` brought in) or `ran`; nil for FROM (a base is resolved, never cached).
        public var cacheSource: String? {
            if !cacheSourceKnown || ProgressReporter.instruction(name).hasPrefix("FROM ") { return nil }
            guard status == .cached else { return "ran" }
            return importedFrom == nil ? "local" : "imported"
        }

        public init(step: Int, name: String, status: Status, reason: String? = nil, seconds: Double? = nil, start: Double? = nil) {
            self.step = step
            self.name = name
            self.status = status
            self.reason = reason
            self.seconds = seconds
            self.start = start
        }
    }

    /// The steps of the build so far, in the order they started or were found cached.
    public func stepSummaries() -> [StepSummary] { summaries }

    /// The records `--cache-to` exported, in the order reported.
    public func cacheExports() -> [CacheExportCost] { exports }

    /// The instruction of a step's name without its `[stage n/N] ` label.
    public static func instruction(_ name: String) -> String {
        guard name.hasPrefix("["), let end = name.range(of: "] ") else { return name }
        return String(name[end.upperBound...])
    }
    /// Set by the first write that failed; nothing is written after it.
    public private(set) var outputFailure: ProgressOutputError?
    /// Cancels the work of each running `stoppingOnOutputFailure`, by registration number.
    private var onFailure: [Int: @Sendable () -> Void] = [:]
    private var nextWatch = 0

    /// `auto` picks tty when stderr is a terminal, plain otherwise.
    public init(mode: ProgressMode, stderr: FileHandle = .standardError, stdout: FileHandle = .standardOutput) {
        var m = mode
        if m == .auto { m = isatty(2) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb" ? .tty : .plain }
        self.mode = m
        self.err = stderr
        self.out = stdout
        self.start = ContinuousClock().now
    }

    /// A fresh step number (BuildKit's `#N`).
    public func newStep() -> Int {
        nextID += 1
        return nextID
    }

    /// The last `count` output lines of a step (for error messages).
    public func tail(of step: Int, count: Int = 20) -> [String] {
        Array((fullTail[step] ?? []).suffix(count))
    }

    public func emit(_ event: ProgressEvent) {
        switch mode {
        case .json: emitJSON(event)   // JSON escapes control characters itself
        case .rawjson: emitRawJSON(event)
        case .plain: emitPlain(event.forTerminal)
        case .tty: emitTTY(event.forTerminal)
        case .quiet, .auto:
            track(event)
            if case .result(let id, _, _) = event { write(id + "\n", to: out) }
        }
    }

    /// Stops the live redraw (tty) and leaves the cursor below the output.
    public func close() {
        ticker?.cancel()
        ticker = nil
        if mode == .tty { clearLive() }
    }

    /// Runs `body` and cancels it as soon as a write of progress fails; it then throws that
    /// `ProgressOutputError` (not the `CancellationError` the cancelled work ends with). Work
    /// cancelled this way cleans up as on any cancellation (containers stopped, mounts removed).
    public func stoppingOnOutputFailure<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        let watch = nextWatch
        nextWatch += 1
        onFailure[watch] = { task.cancel() }
        if outputFailure != nil { task.cancel() }
        defer { onFailure[watch] = nil }
        do {
            let value = try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
            if let outputFailure { throw outputFailure }
            return value
        } catch {
            if let outputFailure { throw outputFailure }
            throw error
        }
    }

    // MARK: - bookkeeping

    private func track(_ event: ProgressEvent) {
        switch event {
        case .started(let id, let name):
            steps[id] = Step(name: name, started: clock.now)
            running.append(id)
            summaries.append(StepSummary(step: id, name: name, status: .ran, start: sinceStart()))
        case .miss(let id, let reason):
            if let i = summaries.lastIndex(where: { $0.step == id }) { summaries[i].reason = reason }
        case .output(let id, let line):
            steps[id]?.tail.append(line)
            if (steps[id]?.tail.count ?? 0) > 6 { steps[id]?.tail.removeFirst() }
            fullTail[id, default: []].append(line)
            if (fullTail[id]?.count ?? 0) > 200 { fullTail[id]?.removeFirst(100) }
        case .cached(let id, let name, let from):
            var summary = StepSummary(step: id, name: name, status: .cached, start: sinceStart())
            summary.importedFrom = from
            summaries.append(summary)
        case .layer(let id, let bytes, let uncompressed):
            if let i = summaries.lastIndex(where: { $0.step == id }) {
                summaries[i].layerBytes = bytes
                summaries[i].uncompressedBytes = uncompressed
            }
        case .cacheExported(let cost):
            exports.append(cost)
        case .cpu(let id, let seconds):
            if let i = summaries.lastIndex(where: { $0.step == id }) { summaries[i].cpuSeconds = seconds }
        case .note, .result:
            break
        case .finished(let id), .failed(let id, _):
            if let i = summaries.lastIndex(where: { $0.step == id }) {
                summaries[i].seconds = elapsed(id)
                if case .failed = event { summaries[i].status = .failed }
            }
            steps[id]?.done = true
            running.removeAll { $0 == id }
        }
    }

    private func elapsed(_ id: Int) -> Double {
        guard let s = steps[id] else { return 0 }
        let d = clock.now - s.started
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private func sinceStart() -> Double {
        let d = clock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private func write(_ s: String, to h: FileHandle? = nil) {
        write(Data(s.utf8), to: h ?? err)
    }

    /// Writes `data` unless an earlier write failed; the first failure is recorded and cancels
    /// the watched work.
    private func write(_ data: Data, to handle: FileHandle) {
        guard outputFailure == nil else { return }
        let failed = data.withUnsafeBytes { FileIO.writeFully(handle.fileDescriptor, $0) }
        guard failed != 0 else { return }
        outputFailure = ProgressOutputError(stream: handle === out ? "stdout" : "stderr", errno: failed)
        ticker?.cancel()
        ticker = nil
        for cancel in onFailure.values { cancel() }
    }

    // MARK: - plain

    private func emitPlain(_ event: ProgressEvent) {
        track(event)
        switch event {
        case .started(let id, let name): write("#\(id) \(DisplayText.abbreviated(name))\n")
        case .output(let id, let line): write(String(format: "#%d %.3f ", id, elapsed(id)) + line + "\n")
        // BuildKit's lines exactly (scripts match `#N CACHED`); where a hit came from is in
        // --explain, json, the metadata file and the build record.
        case .cached(let id, let name, _): write("#\(id) \(DisplayText.abbreviated(name))\n#\(id) CACHED\n\n")
        case .miss(let id, let reason):
            let name = steps[id].map { Self.instruction($0.name) } ?? ""
            write("#\(id) MISS: \(DisplayText.abbreviated(name)) — \(reason)\n")
        case .finished(let id): write(String(format: "#%d DONE %.1fs\n\n", id, elapsed(id)))
        case .failed(let id, let msg): write("#\(id) ERROR: \(DisplayText.abbreviated(msg))\n\n")
        case .note(let s): write(s + "\n")
        case .layer, .cpu, .cacheExported: break
        case .result(let id, let tags, let size): write(Self.resultLine(id, tags, size) + "\n", to: out)
        }
    }

    static func resultLine(_ id: String, _ tags: [String], _ size: Int64) -> String {
        let t = tags.isEmpty ? "<none>" : tags.joined(separator: ", ")
        return "Built \(id)  tags: \(t)  size: \(ByteCount.format(size))"
    }

    // MARK: - json

    private func emitJSON(_ event: ProgressEvent) {
        track(event)
        var obj: [String: Any] = ["time": (sinceStart() * 1000).rounded() / 1000]
        switch event {
        case .started(let id, let name): obj["event"] = "started"; obj["step"] = id; obj["name"] = name
        case .output(let id, let line): obj["event"] = "output"; obj["step"] = id; obj["line"] = line
        case .cached(let id, let name, let from):
            obj["event"] = "cached"; obj["step"] = id; obj["name"] = name; obj["cache"] = from == nil ? "local" : "imported"
            if let from { obj["importedFrom"] = from }
        case .miss(let id, let reason): obj["event"] = "miss"; obj["step"] = id; obj["reason"] = reason
        case .finished(let id): obj["event"] = "finished"; obj["step"] = id; obj["duration"] = (elapsed(id) * 1000).rounded() / 1000
        case .failed(let id, let msg): obj["event"] = "failed"; obj["step"] = id; obj["error"] = msg
        case .note(let s): obj["event"] = "note"; obj["message"] = s
        case .layer(let id, let bytes, let uncompressed):
            obj["event"] = "layer"; obj["step"] = id; obj["bytes"] = bytes
            if let uncompressed { obj["uncompressedBytes"] = uncompressed }
        case .cacheExported(let cost):
            obj.merge(cost.jsonObject) { _, new in new }
            obj["event"] = "cache-exported"
        case .cpu(let id, let seconds): obj["event"] = "cpu"; obj["step"] = id; obj["seconds"] = (seconds * 1000).rounded() / 1000
        case .result(let id, let tags, let size):
            obj["event"] = "result"; obj["image"] = id; obj["tags"] = tags; obj["size"] = size
        }
        if let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]) {
            var line = data
            line.append(0x0A)
            if case .result = event { write(line, to: out) } else { write(line, to: err) }
        }
    }

    // MARK: - rawjson

    /// BuildKit's `SolveStatus` as `buildx --progress=rawjson` prints it: each step is a vertex
    /// (a digest derived from its number, its name, started/completed times, cached, error);
    /// each output line a log entry (base64 data, stream 1) of its vertex.
    private func emitRawJSON(_ event: ProgressEvent) {
        track(event)
        func vertexDigest(_ id: Int) -> String { Digest.sha256("slipway-step-\(id)").description }
        func time(_ instant: ContinuousClock.Instant) -> String {
            let d = instant - start
            let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            // RFC 3339 with nanoseconds, as Go's time.Time marshals.
            let date = startDate.addingTimeInterval(seconds)
            let t = date.timeIntervalSince1970
            return String(Timestamp.format(date).dropLast()) + String(format: ".%09dZ", Int((t - t.rounded(.down)) * 1e9))
        }
        var vertex: [String: Any] = [:]
        var logs: [[String: Any]] = []
        switch event {
        case .started(let id, let name):
            vertex = ["digest": vertexDigest(id), "name": name, "started": time(clock.now)]
        case .cached(let id, let name, _):
            let now = time(clock.now)
            vertex = ["digest": vertexDigest(id), "name": name, "started": now, "completed": now, "cached": true]
        case .finished(let id), .failed(let id, _):
            guard let s = steps[id] else { return }
            vertex = ["digest": vertexDigest(id), "name": s.name, "started": time(s.started), "completed": time(clock.now)]
            if case .failed(_, let message) = event { vertex["error"] = message }
        case .output(let id, let line):
            logs = [["vertex": vertexDigest(id), "stream": 1, "data": Data((line + "\n").utf8).base64EncodedString(),
                     "timestamp": time(clock.now)]]
        case .miss, .note, .result, .layer, .cpu, .cacheExported:
            return
        }
        let status: [String: Any] = ["vertexes": vertex.isEmpty ? [] : [vertex], "statuses": [], "logs": logs, "warnings": []]
        if var data = try? JSONSerialization.data(withJSONObject: status, options: [.sortedKeys, .withoutEscapingSlashes]) {
            data.append(0x0A)
            write(data, to: err)
        }
    }

    // MARK: - tty

    private func emitTTY(_ event: ProgressEvent) {
        track(event)
        clearLive()
        switch event {
        case .started:
            if ticker == nil {
                ticker = Task { [weak self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(150))
                        await self?.redraw()
                    }
                }
            }
        case .output:
            break
        case .cached(_, let name, let from):
            write(paint("34", fit(" => CACHED \(name)\(from.map { " (imported from \($0))" } ?? "")")) + "\n")
        case .miss(let id, let reason):
            if let s = steps[id] { write(paint("33", fit(" => MISS \(Self.instruction(s.name)) — \(reason)")) + "\n") }
        case .finished(let id):
            if let s = steps[id] { write(fit(" => \(s.name)", keeping: String(format: " %.1fs", elapsed(id))) + "\n") }
        case .failed(let id, let msg):
            if let s = steps[id] {
                // The step's output and the error stay whole (they wrap): they are what to read.
                write(paint("31", fit(" => ERROR \(s.name)")) + "\n")
                for l in tail(of: id, count: 10) { write("    \(l)\n") }
                write(paint("31", "    \(msg)") + "\n")
            }
        case .note(let s): write(" => \(s)\n")
        case .layer, .cpu, .cacheExported: break
        case .result(let id, let tags, let size):
            write(Self.resultLine(id, tags, size) + "\n", to: out)
        }
        drawLive()
    }

    /// `text` in SGR colour `code` (`34` blue, `2` dim, …), or plain with `NO_COLOR`.
    private func paint(_ code: String, _ text: String) -> String {
        color ? "\u{1B}[\(code)m" + text + "\u{1B}[0m" : text
    }

    private func clearLive() {
        guard liveLines > 0 else { return }
        write("\u{1B}[\(liveLines)A\u{1B}[J")
        liveLines = 0
    }

    private func drawLive() {
        guard !running.isEmpty else { return }
        var lines: [String] = []
        // Each entry is kept to one terminal row so the cursor arithmetic stays right.
        lines.append(fit(String(format: "[+] Building %.1fs (%d running)", sinceStart(), running.count)))
        for id in running {
            guard let s = steps[id] else { continue }
            lines.append(fit(" => \(s.name)", keeping: String(format: " %.1fs", elapsed(id))))
            for t in s.tail.suffix(5) { lines.append("    " + paint("2", fit(t, indent: 4))) }
        }
        for l in lines {
            write(l + (color ? "\u{1B}[0m\n" : "\n"))
        }
        liveLines = lines.count
    }

    /// `text` cut to fit one row of the terminal (less `indent` columns already used), the last
    /// column left free so no terminal wraps early; `keeping` (a step's timer) is never cut.
    /// The width is read again on every draw, so a resized window (SIGWINCH) takes effect at the
    /// next redraw, at most 150 ms later.
    private func fit(_ text: String, keeping suffix: String = "", indent: Int = 0) -> String {
        let room = max(Self.terminalColumns(fd: err.fileDescriptor) - 1 - indent - suffix.count, 1)
        return (text.count > room ? String(text.prefix(room)) : text) + suffix
    }

    /// The width of the terminal on `fd` (TIOCGWINSZ); when it reports none, `$COLUMNS`, then 80.
    static func terminalColumns(fd: Int32) -> Int {
        let columns = Int(clinux_terminal_columns(fd))
        if columns > 0 { return columns }
        if let env = Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? ""), env > 0 { return env }
        return 80
    }

    private func redraw() {
        guard mode == .tty, !running.isEmpty || liveLines > 0 else { return }
        clearLive()
        if !running.isEmpty { drawLive() }
    }
}
