import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

// MARK: - Support

/// Asserts that every entry of `actual` is within `tolerance` of `expected`, relative to
/// max(|expected|, 1) (so entries near zero are compared absolutely).
private func expectTrajectory(
    _ actual: [[Double]], _ expected: [[Double]], tolerance: Double, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        actual.count == expected.count, "\(what): \(actual.count) steps, expected \(expected.count)",
        sourceLocation: sourceLocation)
    var worst = 0.0
    var worstAt = (step: 0, entry: 0)
    for (step, (a, e)) in zip(actual, expected).enumerated() {
        #expect(a.count == e.count, "\(what): step \(step + 1) has \(a.count) entries", sourceLocation: sourceLocation)
        for (entry, (x, y)) in zip(a, e).enumerated() {
            let error = Swift.abs(x - y) / Swift.max(Swift.abs(y), 1)
            if !(error <= worst) {
                worst = error
                worstAt = (step + 1, entry)
            }
        }
    }
    #expect(
        worst <= tolerance,
        "\(what): relative error \(worst) at step \(worstAt.step), entry \(worstAt.entry)", sourceLocation: sourceLocation)
}

/// The gradient of the fixed-gradient problem at step `k` for flat entry `j` (see
/// TorchOptimizerReference.swift).
private func fixedGradient(step k: Int, entry j: Int) -> Double {
    Double(((7 * k + 5 * j) % 11) - 5) / 4
}

/// Runs the fixed-gradient problem and returns the flattened parameters after each step.
private func runFixedGradients<O: Optimizer>(_ optimizer: inout O, steps: Int = 5) -> [[Double]] {
    typealias T = O.Scalar
    var parameters = [Tensor<T>(shape: [2, 3], scalars: [0.5, -1.25, 2, 0, 0.75, -0.5]), Tensor<T>([1, -2, 0.25])]
    var trajectory: [[Double]] = []
    for k in 1...steps {
        let g = (0..<9).map { T(fixedGradient(step: k, entry: $0)) }
        let gradients = [Tensor(shape: [2, 3], scalars: Array(g[0..<6])), Tensor(Array(g[6...]))]
        optimizer.update(&parameters, gradients: gradients)
        trajectory.append(parameters.flatMap(\.doubles))
    }
    return trajectory
}

/// Runs the Rosenbrock problem from (−1.5, 2) and returns the parameters after each step.
private func runRosenbrock<O: Optimizer>(_ optimizer: inout O, steps: Int = 15) -> [[Double]] {
    typealias T = O.Scalar
    var parameters = [Tensor<T>([-1.5, 2])]
    var trajectory: [[Double]] = []
    for _ in 0..<steps {
        let (x, y) = (parameters[0].scalars[0], parameters[0].scalars[1])
        let gradient = Tensor<T>([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
        optimizer.update(&parameters, gradients: [gradient])
        trajectory.append(parameters[0].doubles)
    }
    return trajectory
}

/// Checks every configuration of TorchOptimizerReference.swift in the scalar type `T`.
private func expectTorchTrajectories<T: TensorScalar>(_: T.Type, tolerance: Double) {
    typealias Fixed = TorchFixedGradientReference
    typealias Rosenbrock = TorchRosenbrockReference
    let name = "\(T.self)"

    var sgd = SGD<T>(learningRate: 0.1)
    expectTrajectory(runFixedGradients(&sgd), Fixed.sgdPlain, tolerance: tolerance, "SGD \(name)")
    sgd = SGD<T>(learningRate: 0.1, momentum: 0.9)
    expectTrajectory(runFixedGradients(&sgd), Fixed.sgdMomentum, tolerance: tolerance, "SGD momentum \(name)")
    sgd = SGD<T>(learningRate: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01)
    expectTrajectory(runFixedGradients(&sgd), Fixed.sgdNesterovWeightDecay, tolerance: tolerance, "SGD Nesterov \(name)")

    var adam = Adam<T>()
    expectTrajectory(runFixedGradients(&adam), Fixed.adamDefault, tolerance: tolerance, "Adam defaults \(name)")
    adam = Adam<T>(learningRate: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.1)
    expectTrajectory(runFixedGradients(&adam), Fixed.adamCustom, tolerance: tolerance, "Adam custom \(name)")

    var rmsprop = RMSprop<T>()
    expectTrajectory(runFixedGradients(&rmsprop), Fixed.rmspropDefault, tolerance: tolerance, "RMSprop defaults \(name)")
    rmsprop = RMSprop<T>(learningRate: 0.01, alpha: 0.9, epsilon: 1e-6, centered: true)
    expectTrajectory(runFixedGradients(&rmsprop), Fixed.rmspropCentered, tolerance: tolerance, "RMSprop centered \(name)")
    rmsprop = RMSprop<T>(learningRate: 0.01, momentum: 0.5, weightDecay: 0.05)
    expectTrajectory(
        runFixedGradients(&rmsprop), Fixed.rmspropMomentumWeightDecay, tolerance: tolerance, "RMSprop momentum \(name)")
    rmsprop = RMSprop<T>(learningRate: 0.005, alpha: 0.95, epsilon: 1e-7, momentum: 0.7, centered: true, weightDecay: 0.02)
    expectTrajectory(runFixedGradients(&rmsprop), Fixed.rmspropAll, tolerance: tolerance, "RMSprop all options \(name)")

    sgd = SGD<T>(learningRate: 5e-4, momentum: 0.9)
    expectTrajectory(runRosenbrock(&sgd), Rosenbrock.sgdMomentum, tolerance: tolerance, "Rosenbrock SGD momentum \(name)")
    sgd = SGD<T>(learningRate: 2e-4, momentum: 0.9, nesterov: true, weightDecay: 0.1)
    expectTrajectory(
        runRosenbrock(&sgd), Rosenbrock.sgdNesterovWeightDecay, tolerance: tolerance, "Rosenbrock SGD Nesterov \(name)")
    adam = Adam<T>(learningRate: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.1)
    expectTrajectory(runRosenbrock(&adam), Rosenbrock.adamCustom, tolerance: tolerance, "Rosenbrock Adam \(name)")
    rmsprop = RMSprop<T>(learningRate: 0.01, alpha: 0.95, epsilon: 1e-7, momentum: 0.7, centered: true, weightDecay: 0.02)
    expectTrajectory(runRosenbrock(&rmsprop), Rosenbrock.rmspropAll, tolerance: tolerance, "Rosenbrock RMSprop \(name)")
}

/// f(x) = ½ xᵀAx − bᵀx with A = Rᵀ diag(1, 1000) R (R a rotation by 30°): condition number 1000,
/// axes not aligned with the coordinates. Minimized at x* = A⁻¹b.
private struct IllConditionedQuadratic<T: TensorScalar> {
    let a: Tensor<T>
    let b = Tensor<T>([1, -2])
    let minimizer: [Double]

    init() {
        let (c, s) = (Double.cos(Double.pi / 6), Double.sin(Double.pi / 6))
        let (l1, l2) = (1.0, 1000.0)
        let entries = [l1 * c * c + l2 * s * s, (l2 - l1) * c * s, (l2 - l1) * c * s, l1 * s * s + l2 * c * c]
        a = Tensor(shape: [2, 2], scalars: entries.map { T($0) })
        // A⁻¹ b by Cramer's rule, in Double.
        let det = entries[0] * entries[3] - entries[1] * entries[2]
        minimizer = [(entries[3] * 1 - entries[1] * -2) / det, (entries[0] * -2 - entries[2] * 1) / det]
    }

    /// The value for x of shape [1, 2], recorded through the tape.
    func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
        (matmul(x, a) * x).sum() * 0.5 - (x * b).sum()
    }

    /// ‖x − x*‖ after `steps` updates from 0, gradients from the tape.
    func distanceAfter<O: Optimizer>(_ steps: Int, _ optimizer: inout O) -> Double where O.Scalar == T {
        var parameters = [Tensor<T>.zeros([1, 2])]
        for _ in 0..<steps {
            let gradients = gradient(at: parameters) { self($0[0]) }
            optimizer.update(&parameters, gradients: gradients)
        }
        let x = parameters[0].doubles
        return ((x[0] - minimizer[0]) * (x[0] - minimizer[0]) + (x[1] - minimizer[1]) * (x[1] - minimizer[1])).squareRoot()
    }
}

// MARK: - Reference trajectories

@Suite("Optimizers against torch.optim")
struct TrainingOptimizerReferenceTests {
    @Test func doubleMatchesTorchToRounding() {
        expectTorchTrajectories(Double.self, tolerance: 1e-12)
    }

    @Test func floatMatchesTorchToFloatPrecision() {
        expectTorchTrajectories(Float.self, tolerance: 1e-5)
    }
}

// MARK: - Behaviour

@Suite("Optimizer behaviour")
struct TrainingOptimizerBehaviourTests {
    /// Constant gradient 1, η = 1, μ = ½: heavy ball moves by 1, 1.5, 1.75; Nesterov by g + μb =
    /// 1.5, 1.75, 1.875. All exact in binary.
    func momentumSteps<T: TensorScalar>(_: T.Type) {
        var parameters = [Tensor<T>([0])]
        var heavyBall = SGD<T>(learningRate: 1, momentum: 0.5)
        var positions: [T] = []
        for _ in 0..<3 {
            heavyBall.update(&parameters, gradients: [Tensor([1])])
            positions.append(parameters[0].scalars[0])
        }
        #expect(positions == [-1, -2.5, -4.25])

        parameters = [Tensor<T>([0])]
        var nesterov = SGD<T>(learningRate: 1, momentum: 0.5, nesterov: true)
        positions = []
        for _ in 0..<3 {
            nesterov.update(&parameters, gradients: [Tensor([1])])
            positions.append(parameters[0].scalars[0])
        }
        #expect(positions == [-1.5, -3.25, -5.125])

        // Without momentum, plain steps.
        parameters = [Tensor<T>([0])]
        var plain = SGD<T>(learningRate: 0.5)
        plain.update(&parameters, gradients: [Tensor([1])])
        plain.update(&parameters, gradients: [Tensor([1])])
        #expect(parameters[0].scalars == [-1])
    }

    @Test func momentumAndNesterovByHand() {
        momentumSteps(Float.self)
        momentumSteps(Double.self)
    }

    /// With a zero gradient, weight decay λ alone: SGD shrinks p by (1 − ηλ) per step; Adam's first step
    /// moves p by η·λp/(|λp| + ε) (m̂ = g and √v̂ = |g| after one step); RMSprop's first step by
    /// η·λp/(√(1 − α)|λp| + ε).
    func weightDecay<T: TensorScalar>(_: T.Type, tolerance: T) {
        let start: [T] = [2, -4]
        var parameters = [Tensor(start)]
        var sgd = SGD<T>(learningRate: 0.1, weightDecay: 0.5)
        for _ in 0..<3 { sgd.update(&parameters, gradients: [Tensor.zeros([2])]) }
        let shrink = T.pow(1 - T(0.1) * T(0.5), 3)
        expectClose(parameters[0].scalars, start.map { $0 * shrink }, tolerance: tolerance)

        parameters = [Tensor(start)]
        var adam = Adam<T>(learningRate: 0.1, weightDecay: 0.5)
        adam.update(&parameters, gradients: [Tensor.zeros([2])])
        let adamExpected = start.map { p -> T in
            let g = T(0.5) * p
            return p - T(0.1) * g / (Swift.abs(g) + T(1e-8))
        }
        expectClose(parameters[0].scalars, adamExpected, tolerance: tolerance)

        parameters = [Tensor(start)]
        var rmsprop = RMSprop<T>(learningRate: 0.1, weightDecay: 0.5)
        rmsprop.update(&parameters, gradients: [Tensor.zeros([2])])
        let rmspropExpected = start.map { p -> T in
            let g = T(0.5) * p
            return p - T(0.1) * g / ((1 - T(0.99)).squareRoot() * Swift.abs(g) + T(1e-8))
        }
        expectClose(parameters[0].scalars, rmspropExpected, tolerance: tolerance)

        // Zero weight decay with a zero gradient leaves parameters alone, even infinite ones
        // (λp is not formed when λ = 0, as in PyTorch).
        parameters = [Tensor<T>([.infinity, 1])]
        sgd = SGD<T>(learningRate: 0.1, momentum: 0.9)
        sgd.update(&parameters, gradients: [Tensor.zeros([2])])
        #expect(parameters[0].scalars == [.infinity, 1])
    }

    @Test func weightDecayByHand() {
        weightDecay(Float.self, tolerance: 1e-6)
        weightDecay(Double.self, tolerance: 1e-14)
    }

    /// Adam's first step is η·g/(|g| + ε) (m̂ = g, √v̂ = |g|): about η in every coordinate with a
    /// gradient well above ε, whatever its scale; zero gradients do not move.
    func adamFirstStep<T: TensorScalar>(_: T.Type, tolerance: T) {
        var parameters = [Tensor<T>([1, 1, 1, 1, 1])]
        var adam = Adam<T>(learningRate: 0.01)
        let g: [T] = [1e-3, -1e3, 0, 5, 1e-8]
        adam.update(&parameters, gradients: [Tensor(g)])
        expectClose(parameters[0].scalars, g.map { 1 - T(0.01) * $0 / (Swift.abs($0) + T(1e-8)) }, tolerance: tolerance)
        expectClose(parameters[0].scalars, [0.99, 1.01, 1, 0.99, 0.995], tolerance: 1e-6)
        #expect(adam.step == 1)
    }

    @Test func adamFirstStepIsTheLearningRate() {
        adamFirstStep(Float.self, tolerance: 1e-6)
        adamFirstStep(Double.self, tolerance: 1e-9)
    }

    /// Centered RMSprop with a constant gradient: v − ḡ² = (1 − αᵗ)αᵗ g², tiny for large t; rounding
    /// may make it negative, which must not give NaN.
    @Test func centeredRMSpropStaysFiniteForConstantGradients() {
        var parameters = [Tensor<Double>([0, 0])]
        var rmsprop = RMSprop<Double>(learningRate: 1e-3, alpha: 0.5, centered: true)
        for _ in 0..<200 { rmsprop.update(&parameters, gradients: [Tensor([0.1, 3])]) }
        #expect(parameters[0].isFinite)
        var floatParameters = [Tensor<Float>([0, 0])]
        var floatRMSprop = RMSprop<Float>(learningRate: 1e-3, alpha: 0.5, centered: true)
        for _ in 0..<200 { floatRMSprop.update(&floatParameters, gradients: [Tensor([0.1, 3])]) }
        #expect(floatParameters[0].isFinite)
    }

    @Test func resetForgetsEverything() {
        func trajectory<O: Optimizer>(_ optimizer: inout O) -> [[Double]] { runFixedGradients(&optimizer, steps: 3) }
        var adam = Adam<Double>(learningRate: 0.05, weightDecay: 0.1)
        let fresh = trajectory(&adam)
        #expect(adam.step == 3)
        // Without a reset the state carries over and the trajectory differs.
        #expect(trajectory(&adam) != fresh)
        adam.reset()
        #expect(adam.step == 0 && adam.shapes == nil && adam.firstMoments.isEmpty)
        #expect(trajectory(&adam) == fresh)

        var rmsprop = RMSprop<Double>(momentum: 0.5, centered: true)
        let rmspropFresh = trajectory(&rmsprop)
        rmsprop.reset()
        #expect(rmsprop.step == 0 && rmsprop.velocities == nil && rmsprop.gradientAverages == nil)
        #expect(trajectory(&rmsprop) == rmspropFresh)

        var sgd = SGD<Double>(learningRate: 0.1, momentum: 0.9)
        let sgdFresh = trajectory(&sgd)
        sgd.reset()
        #expect(sgd.velocities == nil)
        #expect(trajectory(&sgd) == sgdFresh)

        // After a reset, other parameters are fine.
        sgd.reset()
        var other = [Tensor<Double>([1, 2, 3, 4])]
        sgd.update(&other, gradients: [Tensor([1, 1, 1, 1])])
        #expect(sgd.shapes == [[4]])
    }

    @Test func stateIsCreatedLazilyWithTheParametersShapes() {
        var adam = Adam<Float>()
        #expect(adam.shapes == nil && adam.firstMoments.isEmpty)
        var parameters = [Tensor<Float>.zeros([2, 3]), Tensor<Float>.zeros([4])]
        adam.update(&parameters, gradients: [Tensor.ones([2, 3]), Tensor.ones([4])])
        #expect(adam.shapes == [[2, 3], [4]])
        #expect(adam.firstMoments.map(\.count) == [6, 4] && adam.secondMoments.map(\.count) == [6, 4])

        // Momentum switched on later: the velocity appears then, starting from zero (b = g).
        var sgd = SGD<Double>(learningRate: 1)
        var p = [Tensor<Double>([0])]
        sgd.update(&p, gradients: [Tensor([1])])
        #expect(sgd.velocities == nil)
        sgd.momentum = 0.5
        sgd.update(&p, gradients: [Tensor([1])])
        sgd.update(&p, gradients: [Tensor([1])])
        #expect(p[0].scalars == [-1 - 1 - 1.5])
    }

    @Test func updatedParametersAreConstantsAndCopiesAreUntouched() {
        let tape = Tape<Double>()
        let recorded = tape.variable(Tensor([1, 2]))
        var parameters = [recorded]
        let before = parameters
        var optimizer = RMSprop<Double>()
        optimizer.update(&parameters, gradients: [Tensor([1, 1])])
        #expect(!parameters[0].isRecorded)
        #expect(before[0].scalars == [1, 2] && recorded.scalars == [1, 2])
        #expect(parameters[0].scalars != [1, 2])
    }

    /// Updates run in place: once the state exists, neither the parameters' storage nor the state's
    /// buffers are reallocated (no copy-on-write copies, no temporaries).
    @Test func updatesRunInPlace() {
        func address<T>(_ array: [T]) -> UnsafeRawPointer? { array.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }
        func address<T>(_ storage: TensorStorage<T>) -> UnsafeRawPointer? {
            storage.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        }
        let gradients = [Tensor<Double>.ones([64]), Tensor<Double>.ones([8, 8])]
        var parameters = [Tensor<Double>.zeros([64]), Tensor<Double>.zeros([8, 8])]

        var adam = Adam<Double>(weightDecay: 0.1)
        adam.update(&parameters, gradients: gradients)
        let adamBefore = parameters.map { address($0.storage) } + adam.firstMoments.map(address) + adam.secondMoments.map(address)
        for _ in 0..<3 { adam.update(&parameters, gradients: gradients) }
        #expect(
            parameters.map { address($0.storage) } + adam.firstMoments.map(address) + adam.secondMoments.map(address)
                == adamBefore)

        var rmsprop = RMSprop<Double>(momentum: 0.9, centered: true)
        rmsprop.update(&parameters, gradients: gradients)
        let rmspropBefore =
            parameters.map { address($0.storage) } + rmsprop.squareAverages.map(address)
            + rmsprop.gradientAverages!.map(address) + rmsprop.velocities!.map(address)
        for _ in 0..<3 { rmsprop.update(&parameters, gradients: gradients) }
        #expect(
            parameters.map { address($0.storage) } + rmsprop.squareAverages.map(address)
                + rmsprop.gradientAverages!.map(address) + rmsprop.velocities!.map(address) == rmspropBefore)

        var sgd = SGD<Double>(learningRate: 0.1, momentum: 0.9, nesterov: true)
        sgd.update(&parameters, gradients: gradients)
        let sgdBefore = parameters.map { address($0.storage) } + sgd.velocities!.map(address)
        for _ in 0..<3 { sgd.update(&parameters, gradients: gradients) }
        #expect(parameters.map { address($0.storage) } + sgd.velocities!.map(address) == sgdBefore)

        var clipped = gradients.map { $0 * 10 }
        let clippedBefore = clipped.map { address($0.storage) }
        GradientClipping.globalNorm(1).apply(to: &clipped)
        GradientClipping.value(0.01).apply(to: &clipped)
        #expect(clipped.map { address($0.storage) } == clippedBefore)
    }

    @Test func documentedLinearRegressionExample() {
        // The example in the documentation of `Optimizer`, with data: y = x·[1, −2, 0.5] + 0.25.
        var generator = SeededGenerator(seed: 11)
        let x = Tensor<Double>.uniform([32, 3], lower: -1, upper: 1, using: &generator)
        let y = matmul(x, Tensor([[1], [-2], [0.5]])) + 0.25

        // Fit y ≈ x·w + b by least squares.
        var parameters = [Tensor<Double>.zeros([3, 1]), Tensor<Double>.zeros([1])]
        var optimizer = Adam<Double>(learningRate: 1e-2)
        for _ in 0..<1000 {
            let gradients = gradient(at: parameters) { p in squaredError(matmul(x, p[0]) + p[1], y) }
            optimizer.update(&parameters, gradients: gradients)
        }

        expectClose(parameters[0].scalars, [1, -2, 0.5], tolerance: 1e-3)
        expectClose(parameters[1].scalars, [0.25], tolerance: 1e-3)
    }
}

// MARK: - Convergence

@Suite("Optimizer convergence")
struct TrainingOptimizerConvergenceTests {
    /// Adam is invariant to the gradient's scale per coordinate, and converges on a rotated quadratic
    /// with condition number 1000 (PyTorch reaches 7.6e-8 in 3000 steps with these settings).
    func adamConverges<T: TensorScalar>(_: T.Type, tolerance: Double) {
        let f = IllConditionedQuadratic<T>()
        var adam = Adam<T>(learningRate: 0.01)
        let distance = f.distanceAfter(3000, &adam)
        #expect(distance < tolerance, "Adam<\(T.self)>: ‖x − x*‖ = \(distance)")
    }

    @Test func adamMinimizesAnIllConditionedQuadratic() {
        adamConverges(Double.self, tolerance: 1e-5)
        adamConverges(Float.self, tolerance: 1e-3)
    }

    /// With η = 1e-3 (stable for the largest curvature, 1000), 1000 steps: plain SGD crawls along the
    /// flat direction (curvature 1); heavy-ball and Nesterov momentum 0.9 converge.
    @Test func momentumAcceleratesOnAnIllConditionedQuadratic() {
        let f = IllConditionedQuadratic<Double>()
        var plain = SGD<Double>(learningRate: 1e-3)
        var heavyBall = SGD<Double>(learningRate: 1e-3, momentum: 0.9)
        var nesterov = SGD<Double>(learningRate: 1e-3, momentum: 0.9, nesterov: true)
        let plainDistance = f.distanceAfter(1000, &plain)
        let heavyBallDistance = f.distanceAfter(1000, &heavyBall)
        let nesterovDistance = f.distanceAfter(1000, &nesterov)
        #expect(plainDistance > 0.1, "plain SGD: \(plainDistance)")
        #expect(heavyBallDistance < 1e-3, "heavy ball: \(heavyBallDistance)")
        #expect(nesterovDistance < 1e-3, "Nesterov: \(nesterovDistance)")
    }

    @Test func rmspropWithMomentumMakesProgress() {
        let f = IllConditionedQuadratic<Double>()
        var rmsprop = RMSprop<Double>(learningRate: 1e-3, momentum: 0.9, centered: true)
        let distance = f.distanceAfter(500, &rmsprop)
        #expect(distance < 1e-2, "centered RMSprop with momentum: \(distance)")
    }
}

// MARK: - Preconditions

@Suite("Optimizer preconditions")
struct TrainingOptimizerPreconditionTests {
    @Test func mismatchedGradientShapeNamesTheIndexAndShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var parameters = [Tensor<Double>.zeros([2]), Tensor<Double>.zeros([3])]
            var sgd = SGD<Double>(learningRate: 0.1)
            sgd.update(&parameters, gradients: [Tensor.zeros([2]), Tensor.zeros([2, 1])])
        }
        expectPreconditionMessage(result, contains: "SGD.update: gradient 1 has shape [2, 1] but parameter 1 has shape [3]")
    }

    @Test func changedParameterShapeNamesTheIndexAndShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var adam = Adam<Float>()
            var parameters = [Tensor<Float>.zeros([2]), Tensor<Float>.zeros([3])]
            adam.update(&parameters, gradients: [Tensor.zeros([2]), Tensor.zeros([3])])
            var other = [Tensor<Float>.zeros([2]), Tensor<Float>.zeros([4])]
            adam.update(&other, gradients: [Tensor.zeros([2]), Tensor.zeros([4])])
        }
        expectPreconditionMessage(
            result, contains: "Adam.update: parameter 1 has shape [4] but the optimizer's state was created for shape [3]")
    }

    @Test func changedParameterCountIsRejected() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rmsprop = RMSprop<Double>()
            var parameters = [Tensor<Double>.zeros([2])]
            rmsprop.update(&parameters, gradients: [Tensor.zeros([2])])
            var more = [Tensor<Double>.zeros([2]), Tensor<Double>.zeros([2])]
            rmsprop.update(&more, gradients: [Tensor.zeros([2]), Tensor.zeros([2])])
        }
        expectPreconditionMessage(result, contains: "RMSprop.update: the optimizer's state was created for 1 parameters, got 2")
    }

    @Test func invalidHyperparametersAreRejected() async {
        await #expect(processExitsWith: .failure) { _ = Adam<Double>(beta1: 1) }
        await #expect(processExitsWith: .failure) { _ = SGD<Double>(learningRate: .nan) }
        await #expect(processExitsWith: .failure) { _ = SGD<Double>(learningRate: 0.1, nesterov: true) }
        await #expect(processExitsWith: .failure) { _ = RMSprop<Float>(alpha: 1.5) }
    }
}
