import Dockerfile
import Foundation

extension StageRun {
    /// Instructions that change only the image config and history (ENV, LABEL, ARG, USER,
    /// EXPOSE, VOLUME, STOPSIGNAL, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER),
    /// applied by `StageConfigMachine` with the values the frontend expanded. Keyed by
    /// `CacheKey.metadata`: the instruction as written and the variables in scope after it.
    func dispatchMetadata(_ instruction: Instruction, step: Step, state: inout State) throws -> Dispatched {
        do {
            try apply(instruction, to: &state.machine)
        } catch {
            throw fail(step, error.description)
        }
        let scope = state.scope.environment.keyValueStrings + state.scope.args.map { a in a.value.map { "arg:\(a.key)=\($0)" } ?? "arg:\(a.key)" }
        return Dispatched(key: .metadata(parent: state.key, keyword: instruction.keyword, arguments: [step.original], scope: scope))
    }

    func apply(_ instruction: Instruction, to machine: inout StageConfigMachine) throws(ConfigError) {
        switch instruction {
        case .env(let pairs):
            machine.env(pairs.map { ($0.key, $0.value) })
        case .label(let pairs):
            machine.label(pairs.map { ($0.key, $0.value) })
        case .arg(let defs):
            // The frontend resolved each value (build arg, else expanded default, else global).
            machine.arg(defs.map { ($0.key, $0.defaultValue) })
        case .user(let u):
            machine.user(u)
        case .expose(let ports):
            try machine.expose(ports)
        case .volume(let vols):
            try machine.volume(vols)
        case .stopSignal(let s):
            try machine.stopSignal(s)
        case .cmd(let c):
            machine.cmd(c.words, shellForm: c.isShell)
        case .entrypoint(let c):
            machine.entrypoint(c.words, shellForm: c.isShell)
        case .shell(let args):
            machine.shell(args)
        case .healthcheck(let h):
            if case .none = h.test {
                machine.healthcheck(nil)
            } else {
                machine.healthcheck(StageHealthcheck(test: h.configTest, interval: h.intervalNanoseconds ?? 0,
                                                     timeout: h.timeoutNanoseconds ?? 0,
                                                     startPeriod: h.startPeriodNanoseconds ?? 0,
                                                     startInterval: h.startIntervalNanoseconds ?? 0, retries: h.retries ?? 0))
            }
        case .onbuild(let o):
            machine.onbuild(o.expression)
        case .maintainer(let m):
            machine.maintainer(m)
        case .from, .run, .copy, .add, .workdir:
            break
        }
    }
}
