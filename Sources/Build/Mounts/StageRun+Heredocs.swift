extension StageRun {
    /// `COPY <<EOF`: with an unquoted delimiter the body is expanded with the stage's ARG/ENV
    /// values, keeping quotes and backslashes as written (BuildKit's raw expansion); with a
    /// quoted one (`<<"EOF"`, `<<'EOF'`) it is copied verbatim.
    func expandHeredocBodies(_ op: inout CopyOp, env: [String: String], step: PlannedStep) throws {
        let expand = engine.hooks.expandRaw ?? engine.hooks.expand
        for (i, wanted) in op.inlineExpand.enumerated() where wanted && i < op.inline.count {
            let body = op.inline[i].data
            guard body.contains("$") else { continue }
            do {
                op.inline[i].data = try expand(body, env)
            } catch {
                throw BuildError.stepFailed(file: file, line: step.line, instruction: step.text, reason: "heredoc <<\(op.inline[i].name): \(error)")
            }
        }
    }
}
