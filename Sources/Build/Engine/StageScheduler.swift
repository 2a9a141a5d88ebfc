/// Runs the stages a target needs as concurrent tasks, at most `jobs` at a time. A stage asks for
/// another stage's result only when it reaches the instruction that needs it (FROM <stage>,
/// COPY --from); while it waits it gives its job slot back, so `--jobs 1` cannot deadlock.
/// Stages not passed in are never run.
public struct StageScheduler: Sendable {
    public let jobs: Int

    public init(jobs: Int) {
        self.jobs = max(1, jobs)
    }

    /// Gives a running stage access to the results of the stages it depends on.
    public struct Dependencies<Result: Sendable>: Sendable {
        let tasks: [Int: Task<Result, Error>]
        let slots: JobSlots

        /// Waits for stage `index` (releasing this stage's job slot meanwhile) and returns its result.
        public func result(of index: Int) async throws -> Result {
            guard let task = tasks[index] else { throw SchedulerError.notScheduled(index) }
            await slots.release()
            let value: Result
            do {
                value = try await task.value
            } catch {
                await slots.acquire()
                throw error
            }
            await slots.acquire()
            try Task.checkCancellation()
            return value
        }
    }

    /// Runs `body` once for each index in `stages`. `dependencies[i]` lists the stages stage `i`
    /// may ask for; they must come earlier in `stages`. The first failure cancels the others and
    /// is rethrown after every stage task has finished (so cleanup in `body` always completes).
    public func run<Result: Sendable>(
        stages: [Int], dependencies: [Int: [Int]],
        body: @escaping @Sendable (Int, Dependencies<Result>) async throws -> Result
    ) async throws -> [Int: Result] {
        let slots = JobSlots(count: jobs)
        var tasks: [Int: Task<Result, Error>] = [:]
        for index in stages {
            var visible: [Int: Task<Result, Error>] = [:]
            for d in dependencies[index] ?? [] {
                guard let t = tasks[d] else { throw SchedulerError.dependencyOrder(stage: index, dependency: d) }
                visible[d] = t
            }
            let deps = Dependencies(tasks: visible, slots: slots)
            tasks[index] = Task {
                await slots.acquire()
                do {
                    try Task.checkCancellation()
                    let result = try await body(index, deps)
                    await slots.release()
                    return result
                } catch {
                    await slots.release()
                    throw error
                }
            }
        }
        let all = tasks
        return try await withTaskCancellationHandler {
            var results: [Int: Result] = [:]
            var firstError: Error?
            for index in stages {
                guard let t = all[index] else { continue }
                do {
                    results[index] = try await t.value
                } catch {
                    if firstError == nil {
                        firstError = error
                        for other in all.values { other.cancel() }
                    }
                }
            }
            if let firstError { throw firstError }
            return results
        } onCancel: {
            for t in all.values { t.cancel() }
        }
    }
}

/// A counting semaphore for stage tasks.
public actor JobSlots {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(count: Int) { free = count }

    public func acquire() async {
        if free > 0 { free -= 1; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    public func release() {
        if waiters.isEmpty { free += 1 } else { waiters.removeFirst().resume() }
    }
}

public enum SchedulerError: Error, CustomStringConvertible {
    case notScheduled(Int)
    case dependencyOrder(stage: Int, dependency: Int)

    public var description: String {
        switch self {
        case .notScheduled(let i): return "internal error: stage \(i) was not scheduled"
        case .dependencyOrder(let s, let d): return "stage \(s) depends on stage \(d), which is not defined before it"
        }
    }
}
