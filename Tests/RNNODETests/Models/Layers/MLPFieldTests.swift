import Testing

@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODETensors

/// A network with nonzero biases and the given activations (the last layer's is `output`).
func testNetwork<T: TensorScalar>(
    _: T.Type, sizes: [Int], hidden: Activation = .tanh, output: Activation = .identity, seed: UInt64
) -> MLP<T> {
    var generator = SeededGenerator(seed: seed)
    return MLP<T>(
        sizes: sizes, hiddenActivation: hidden, outputActivation: output,
        weightInitializer: .normal(mean: 0, standardDeviation: 0.5),
        biasInitializer: .normal(mean: 0, standardDeviation: 0.2), using: &generator)
}

/// The layers applied one by one (two records per layer): the reference for the fused evaluation.
func composed<T: TensorScalar>(_ network: MLP<T>, _ x: Tensor<T>, power: Int) -> Tensor<T> {
    network.layers.reduce(power == 1 ? x : pow(x, T(power))) { $1($0) }
}

@Suite("Fused dense networks and MLPField")
struct MLPFieldTests {
    /// A fixed weighting so that every output element matters differently.
    func weighted<T: TensorScalar>(_ y: Tensor<T>) -> Tensor<T> {
        let w = Tensor<T>(shape: y.shape, scalars: (0..<y.scalarCount).map { T(0.3) + T(0.7) * T($0 % 5) })
        return (y * w).sum()
    }

    func expectFusedMatchesComposed<T: TensorScalar>(_: T.Type, tolerance: T) {
        let cases: [(sizes: [Int], hidden: Activation, output: Activation, shape: [Int], power: Int)] = [
            ([2, 50, 2], .tanh, .identity, [2], 3),
            ([3, 7, 5, 3], .sigmoid, .tanh, [4, 3], 1),
            ([2, 6, 4], .softplus, .sigmoid, [2, 3, 2], 2),
            ([4, 9, 4], .relu, .identity, [5, 4], 1),
        ]
        for (index, c) in cases.enumerated() {
            let network = testNetwork(T.self, sizes: c.sizes, hidden: c.hidden, output: c.output, seed: UInt64(index))
            var generator = SeededGenerator(seed: 100 + UInt64(index))
            let x = Tensor<T>.uniform(c.shape, lower: -1, upper: 1, using: &generator)
            let fused = network.fused(x, inputPower: c.power)
            let reference = composed(network, x, power: c.power)
            #expect(fused.shape == reference.shape, "case \(index)")
            let difference = zip(fused.scalars, reference.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
            #expect(difference < tolerance, "case \(index): values differ by \(difference)")

            // Gradients with respect to the input and every parameter, against the composition.
            let inputs = [x] + network.parameters
            let fusedGradients = gradient(at: inputs) { p in
                var model = network
                model.parameters = Array(p.dropFirst())
                return weighted(model.fused(p[0], inputPower: c.power))
            }
            let referenceGradients = gradient(at: inputs) { p in
                var model = network
                model.parameters = Array(p.dropFirst())
                return weighted(composed(model, p[0], power: c.power))
            }
            for (i, (a, b)) in zip(fusedGradients, referenceGradients).enumerated() {
                #expect(a.shape == b.shape)
                let error = zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
                #expect(error < tolerance, "case \(index), gradient \(i): differs by \(error)")
            }
        }
    }

    @Test func fusedMatchesTheComposedLayersInDouble() { expectFusedMatchesComposed(Double.self, tolerance: 1e-12) }

    @Test func fusedMatchesTheComposedLayersInFloat() { expectFusedMatchesComposed(Float.self, tolerance: 2e-5) }

    /// Central differences, with respect to the input and to each parameter tensor.
    @Test func fusedGradientsMatchCentralDifferences() {
        let network = testNetwork(Double.self, sizes: [2, 10, 3, 2], hidden: .tanh, output: .sigmoid, seed: 7)
        var generator = SeededGenerator(seed: 8)
        let x = Tensor<Double>.uniform([3, 2], lower: -1, upper: 1, using: &generator)
        let input = checkGradient(at: x) { weighted(network.fused($0, inputPower: 3)) }
        #expect(input.maxError < 1e-7, "input: \(input)")
        for (i, parameter) in network.parameters.enumerated() {
            let check = checkGradient(at: parameter) { p in
                var model = network
                var parameters = model.parameters
                parameters[i] = p
                model.parameters = parameters
                return weighted(model.fused(x, inputPower: 3))
            }
            #expect(check.maxError < 1e-7, "parameter \(i): \(check)")
        }
    }

    @Test func fusedGradientsMatchCentralDifferencesInFloat() {
        let network = testNetwork(Float.self, sizes: [2, 6, 2], seed: 9)
        let x = Tensor<Float>([[0.5, -0.25], [0.75, 0.1]])
        let check = checkGradient(at: x, relativeStep: 1e-2) { weighted(network.fused($0, inputPower: 3)) }
        #expect(check.maxError < 2e-3, "\(check)")
        let weight = checkGradient(at: network.layers[0].weight, relativeStep: 1e-2) { w in
            var model = network
            model.layers[0].weight = w
            return weighted(model.fused(x))
        }
        #expect(weight.maxError < 2e-3, "\(weight)")
    }

    /// One record per evaluation, and nothing recorded for constant inputs.
    @Test func fusedEvaluationIsOneRecord() {
        let network = testNetwork(Double.self, sizes: [2, 5, 2], seed: 1)
        let tape = Tape<Double>()
        let x = tape.variable(Tensor([0.3, -0.2]))
        let before = tape.count
        let y = network.fused(x, inputPower: 3)
        #expect(tape.count == before + 1)
        #expect(y.isRecorded)
        #expect(!network.fused(Tensor([0.3, -0.2])).isRecorded)
    }

    /// dy/dt = MLP(y³) through an adaptive Tsit5 solve: the same loss and gradients as the composed
    /// field, and (with fixed steps, where the steps do not move) central differences.
    @Test func gradientThroughSolveMatchesComposedFieldAndCentralDifferences() throws {
        let field = MLPField(network: testNetwork(Double.self, sizes: [2, 12, 2], seed: 3), inputPower: 3)
        let y0 = Tensor<Double>([[1.0, -0.5], [0.25, 0.75]])
        let times = (0..<6).map { 0.2 * Double($0) }
        func loss(_ model: MLPField<Double>, step: StepSizeControl<Double>) throws -> Tensor<Double> {
            let states = try solve(model, initialState: y0, times: times, method: .tsit5, step: step).checked().states
            return square(Tensor(stacking: states)).sum()
        }
        let adaptive = StepSizeControl<Double>.adaptive(rtol: 1e-6, atol: 1e-9)
        let (value, grads) = try valueWithGradient(at: field.parameters) { p in
            var model = field
            model.parameters = p
            return try loss(model, step: adaptive)
        }
        let (referenceValue, referenceGrads) = try valueWithGradient(at: field.network.parameters) { p in
            var network = field.network
            network.parameters = p
            let reference = FieldClosure<Tensor<Double>> { _, y in composed(network, y, power: 3) }
            let states = try solve(reference, initialState: y0, times: times, method: .tsit5, step: adaptive)
                .checked().states
            return square(Tensor(stacking: states)).sum()
        }
        #expect(Swift.abs(value.scalar - referenceValue.scalar) < 1e-12 * Swift.abs(referenceValue.scalar))
        for (a, b) in zip(grads, referenceGrads) {
            let error = zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
            #expect(error < 1e-10)
        }
        let fixed = StepSizeControl<Double>.fixed(0.05)
        let check = try checkGradient(at: field.network.layers[0].weight) { w in
            var model = field
            model.network.layers[0].weight = w
            return try loss(model, step: fixed)
        }
        #expect(check.maxError < 1e-6, "\(check)")
    }

    @Test func parametersAreTheNetworks() {
        var field = MLPField(network: testNetwork(Double.self, sizes: [2, 4, 2], seed: 2), inputPower: 3)
        #expect(
            field.namedParameters.map(\.name) == [
                "network.layers.0.weight", "network.layers.0.bias", "network.layers.1.weight", "network.layers.1.bias",
            ])
        #expect(field.parameters == field.network.parameters)
        #expect(field.isAutonomous)
        #expect(field.firstNonFiniteParameter() == nil)
        field.network.layers[1].bias = Tensor([0, .nan])
        #expect(field.firstNonFiniteParameter() == "network.layers.1.bias")
        #expect(throws: SolveError.nonFiniteParameter(name: "network.layers.1.bias")) {
            try solve(field, initialState: Tensor([1.0, 0.0]), from: 0, to: 1, saveAt: .final)
        }
    }

    /// The cached paths follow the layer count.
    @Test func parameterPathsFollowTheLayerCount() {
        let two = testNetwork(Double.self, sizes: [2, 3, 2], seed: 4)
        let three = testNetwork(Double.self, sizes: [2, 3, 3, 2], seed: 5)
        #expect(two.namedParameters.count == 4)
        #expect(three.namedParameters.count == 6)
        #expect(three.namedParameters.last?.name == "layers.2.bias")
        #expect(two.namedParameters.count == 4)
    }
}
