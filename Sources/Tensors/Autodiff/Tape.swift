import Synchronization

/// Maps the gradient of an operation's result to the gradient of one of its operands.
public typealias Pullback<Scalar: TensorScalar> = @Sendable (Tensor<Scalar>) -> Tensor<Scalar>

/// A record of tensor operations for reverse-mode automatic differentiation (a Wengert list).
///
/// Make tensors variables of a tape, compute with them, then ask for gradients:
///
/// ```swift
/// let tape = Tape<Double>()
/// let w = tape.variable(Tensor([0.5, -1.0]))
/// let loss = (tanh(w * 2) * Tensor([1, 3])).sum()
/// let dw = tape.gradient(of: loss, withRespectTo: w)
/// ```
///
/// Every operation whose operands include a recorded tensor appends one record, in execution order,
/// holding the indices of its recorded operands and the pullbacks that map the result's gradient to
/// theirs. `gradient(of:withRespectTo:)` walks the records once, from the output back to the
/// beginning: a loop, not a recursion, so a graph one million steps deep (an unrolled ODE solve) is
/// no problem. Backward passes do not modify the tape, so several can run on one forward pass (the
/// rows of a Jacobian, for example).
///
/// There is no global tape: each computation makes its own, so concurrent tasks never share state.
/// A tape is nevertheless safe to use from several threads (records are appended under a lock).
/// A tape lives as long as a tensor recorded on it.
///
/// Gradients are first order: pullbacks compute with constants, so a gradient is not itself recorded.
public final class Tape<Scalar: TensorScalar>: Sendable {
    @usableFromInline package let records: Mutex<[TapeRecord<Scalar>]>

    /// An empty tape.
    @inlinable
    public init() {
        records = Mutex([])
    }

    /// The number of records (variables and operations) on the tape.
    public var count: Int { records.withLock { $0.count } }

    /// Returns `value` as a variable of this tape: a recorded tensor whose gradient can be requested.
    ///
    /// A tensor already recorded on another tape is first detached from it.
    @inlinable
    public func variable(_ value: Tensor<Scalar>) -> Tensor<Scalar> {
        let index = append(.leaf)
        return Tensor(shape: value.shape, storage: value.storage, node: TapeNode(tape: self, index: index))
    }

    /// Returns each of `values` as a variable of this tape.
    @inlinable
    public func variables(_ values: [Tensor<Scalar>]) -> [Tensor<Scalar>] { values.map(variable) }

    @inlinable
    package func append(_ record: TapeRecord<Scalar>) -> Int {
        records.withLock { list in
            list.append(record)
            return list.count - 1
        }
    }

    // MARK: - Backward

    /// The gradient of the scalar `output` with respect to `input`.
    ///
    /// - Precondition: `output` has one scalar, and both tensors belong to this tape (an input that
    ///   `output` does not depend on gets a zero gradient).
    @inlinable
    public func gradient(of output: Tensor<Scalar>, withRespectTo input: Tensor<Scalar>) -> Tensor<Scalar> {
        gradients(of: output, withRespectTo: [input])[0]
    }

    /// The gradients of the scalar `output` with respect to each of `inputs`, in order.
    @inlinable
    public func gradients(of output: Tensor<Scalar>, withRespectTo inputs: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        require(
            output.scalarCount == 1,
            "gradient of a tensor with shape \(output.shape): pass a seed (vector-Jacobian product) for non-scalar outputs"
        )
        return pullback(of: output, seed: Tensor(repeating: 1, shape: output.shape), withRespectTo: inputs)
    }

    /// The vector–Jacobian product `seedᵀ · ∂output/∂input` for each of `inputs`.
    ///
    /// - Precondition: `seed` has the shape of `output`.
    @inlinable
    public func pullback(
        of output: Tensor<Scalar>, seed: Tensor<Scalar>, withRespectTo inputs: [Tensor<Scalar>]
    ) -> [Tensor<Scalar>] {
        require(seed.shape == output.shape, "seed shape \(seed.shape) differs from output shape \(output.shape)")
        for input in inputs {
            require(
                input.node == nil || input.node!.tape === self,
                "gradient with respect to a tensor recorded on another tape")
        }
        guard let outputNode = output.node else {
            // A constant output depends on nothing.
            return inputs.map { Tensor.zeros($0.shape) }
        }
        require(outputNode.tape === self, "gradient of a tensor recorded on another tape")
        let list = records.withLock { $0 }
        // Gradients flow from later records to earlier ones only, so nothing recorded before the
        // earliest input can reach an input: the sweep (and its bookkeeping) covers only the records
        // from there to the output — the cost of a small pullback late on a long tape stays small.
        let lowest = inputs.compactMap { $0.node?.index }.filter { $0 <= outputNode.index }.min() ?? outputNode.index
        let count = outputNode.index - lowest + 1
        var wanted = [Bool](repeating: false, count: count)
        for input in inputs {
            if let node = input.node, node.index <= outputNode.index { wanted[node.index - lowest] = true }
        }
        // A typed buffer rather than an array: destroying an array of optional tensors goes through
        // the runtime's generic value witnesses, a few hundred instructions per slot.
        let grads = UnsafeMutablePointer<Tensor<Scalar>?>.allocate(capacity: count)
        grads.initialize(repeating: nil, count: count)
        defer {
            // Moved out one by one in this specialized code (`deinitialize(count:)` is the runtime's
            // generic loop).
            for slot in 0..<count { _ = (grads + slot).move() }
            grads.deallocate()
        }
        grads[outputNode.index - lowest] = seed.detached
        func accumulate(_ g: Tensor<Scalar>, into index: Int) {
            guard index >= lowest else { return }
            let slot = index - lowest
            if var existing = grads[slot] {
                grads[slot] = nil  // release the buffer's reference so the sum can reuse the storage
                existing.accumulate(g)
                grads[slot] = existing
            } else {
                grads[slot] = g
            }
        }

        for index in stride(from: outputNode.index, through: lowest, by: -1) {
            guard let g = grads[index - lowest] else { continue }
            switch list[index] {
            case .leaf:
                continue
            case .one(let a, let pa):
                accumulate(pa(g), into: a)
            case .two(let a, let b, let pullback):
                let (ga, gb) = pullback(g, a >= 0, b >= 0)
                if a >= 0, let ga { accumulate(ga, into: a) }
                if b >= 0, let gb { accumulate(gb, into: b) }
            case .many(let operands, let pullback):
                let operandGrads = pullback(g)
                for (operand, operandGrad) in zip(operands, operandGrads) {
                    if let operandGrad { accumulate(operandGrad, into: operand) }
                }
            case .combination(let operands, let weights):
                // w·g added straight into each operand's gradient: no tensor per term.
                for j in 0..<operands.count {
                    let (operand, w) = (operands[j], weights[j])
                    guard operand >= lowest, w != 0 else { continue }
                    let slot = operand - lowest
                    if var existing = grads[slot] {
                        grads[slot] = nil
                        existing.accumulate(g, scaledBy: w)
                        grads[slot] = existing
                    } else {
                        grads[slot] = w == 1 ? g : g.mapScalars { $0 * w }
                    }
                }
            }
            if !wanted[index - lowest] { grads[index - lowest] = nil }
        }
        return inputs.map { input in
            guard let node = input.node, node.index >= lowest, node.index <= outputNode.index,
                let g = grads[node.index - lowest]
            else {
                return Tensor.zeros(input.shape)
            }
            return g
        }
    }
}

/// A recorded tensor's place on its tape.
@usableFromInline
package struct TapeNode<Scalar: TensorScalar>: Sendable {
    @usableFromInline package let tape: Tape<Scalar>
    @usableFromInline package let index: Int

    @inlinable
    package init(tape: Tape<Scalar>, index: Int) {
        self.tape = tape
        self.index = index
    }
}

/// One entry of a tape: the recorded operands of an operation and how gradients flow back to them.
@usableFromInline
package enum TapeRecord<Scalar: TensorScalar>: Sendable {
    /// A variable.
    case leaf
    /// One recorded operand.
    case one(Int, Pullback<Scalar>)
    /// Two operands (index −1 for a constant one); the pullback is told which gradients are needed
    /// and returns them (nil for one not needed).
    case two(Int, Int, @Sendable (Tensor<Scalar>, Bool, Bool) -> (Tensor<Scalar>?, Tensor<Scalar>?))
    /// Any number of operands; the pullback returns one gradient per operand (nil for none).
    case many([Int], @Sendable (Tensor<Scalar>) -> [Tensor<Scalar>?])
    /// A linear combination Σⱼ wⱼ xⱼ of same-shaped operands (index −1 for a constant one): the
    /// gradient of xⱼ is wⱼ g, accumulated in place (``Tensor/linearCombination(_:weights:)``).
    case combination([Int], [Scalar])
}

// MARK: - Recording operations

extension Tensor {
    /// The tape shared by the recorded operands, if any.
    @inlinable
    package static func commonTape(_ a: Tensor, _ b: Tensor) -> Tape<Scalar>? {
        switch (a.node, b.node) {
        case (nil, nil): return nil
        case (let node?, nil), (nil, let node?): return node.tape
        case (let x?, let y?):
            require(x.tape === y.tape, "an operation mixes tensors recorded on two different tapes")
            return x.tape
        }
    }

    /// `value`, recorded as the result of a one-operand operation on `self` (when `self` is recorded).
    @inlinable
    package func recording(_ value: Tensor, pullback: @escaping Pullback<Scalar>) -> Tensor {
        guard let node else { return value }
        let index = node.tape.append(.one(node.index, pullback))
        return Tensor(shape: value.shape, storage: value.storage, node: TapeNode(tape: node.tape, index: index))
    }

    /// `value`, recorded as the result of a two-operand operation (when either operand is recorded).
    /// `pullback(g, needsA, needsB)` returns the gradients of the operands that need one (one closure
    /// per operation, and no work for a constant operand).
    @inlinable
    package static func recording(
        _ value: Tensor, _ a: Tensor, _ b: Tensor,
        pullback: @escaping @Sendable (Tensor, _ needsA: Bool, _ needsB: Bool) -> (Tensor?, Tensor?)
    ) -> Tensor {
        guard let tape = commonTape(a, b) else { return value }
        let index = tape.append(.two(a.node?.index ?? -1, b.node?.index ?? -1, pullback))
        return Tensor(shape: value.shape, storage: value.storage, node: TapeNode(tape: tape, index: index))
    }

    /// `value`, recorded as the result of an operation on any number of operands. The pullback returns
    /// one gradient per operand, in order; gradients of constant operands are ignored.
    @inlinable
    package static func recording(
        _ value: Tensor, operands: [Tensor], pullback: @escaping @Sendable (Tensor) -> [Tensor?]
    ) -> Tensor {
        var tape: Tape<Scalar>?
        for operand in operands {
            guard let node = operand.node else { continue }
            if let tape {
                require(tape === node.tape, "an operation mixes tensors recorded on two different tapes")
            } else {
                tape = node.tape
            }
        }
        guard let tape else { return value }
        let record: TapeRecord<Scalar>
        if operands.allSatisfy({ $0.node != nil }) {
            record = .many(operands.map { $0.node!.index }, pullback)
        } else {
            // Gradients of constant operands are dropped.
            let recordedPositions = operands.indices.filter { operands[$0].node != nil }
            let indices = recordedPositions.map { operands[$0].node!.index }
            record = .many(indices) { g in
                let all = pullback(g)
                return recordedPositions.map { all[$0] }
            }
        }
        let index = tape.append(record)
        return Tensor(shape: value.shape, storage: value.storage, node: TapeNode(tape: tape, index: index))
    }
}
