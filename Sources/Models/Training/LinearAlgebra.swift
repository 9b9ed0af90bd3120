// Small dense linear algebra in Double for the optimizers: the normal equations of a least-squares
// problem with a handful of parameters. Not generic: every caller widens to Double first, so this
// code is compiled once, in this module.

import RNNODETensors

// MARK: - Cholesky factorization

/// The Cholesky factorization A = L·Lᵀ of a small symmetric positive-definite matrix, in Double.
///
/// Matrices are `n × n`, row-major, in a flat array. Only the lower triangle of A is read.
/// Factorization fails (the initializer returns nil) when a pivot — the part of a diagonal entry that
/// survives elimination — is not positive or is at most `relativePivotTolerance` times that diagonal
/// entry: the matrix is then singular or too ill-conditioned for the factor to mean anything. With the
/// default tolerance n·ε, a matrix with unit diagonal factors as long as its condition number stays
/// below roughly 1/(n·ε) ≈ 10¹⁵/n.
@usableFromInline
package struct CholeskyFactorization: Sendable {
    /// The order n.
    @usableFromInline package let order: Int
    /// L, row-major, with zeros above the diagonal.
    @usableFromInline package var lower: [Double]

    /// Factors the `n × n` row-major matrix `matrix`, or returns nil if it is not (numerically)
    /// positive definite.
    ///
    /// - Precondition: `matrix.count == n * n`.
    @usableFromInline
    package init?(_ matrix: [Double], order n: Int, relativePivotTolerance: Double? = nil) {
        require(
            matrix.count == n * n, "Cholesky of a \(n) × \(n) matrix needs \(n * n) entries, got \(matrix.count)")
        let tolerance = relativePivotTolerance ?? Double(Swift.max(n, 1)) * Double.ulpOfOne
        var l = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            let diagonal = matrix[j * n + j]
            guard diagonal.isFinite, diagonal > 0 else { return nil }
            var pivot = diagonal
            for k in 0..<j { pivot -= l[j * n + k] * l[j * n + k] }
            guard pivot.isFinite, pivot > tolerance * diagonal else { return nil }
            let ljj = pivot.squareRoot()
            l[j * n + j] = ljj
            for i in (j + 1)..<n {
                var sum = matrix[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = sum / ljj
            }
        }
        order = n
        lower = l
    }

    /// The solution x of A·x = b (forward substitution with L, back substitution with Lᵀ).
    ///
    /// - Precondition: `b.count == n`.
    @usableFromInline
    package func solve(_ b: [Double]) -> [Double] {
        let n = order
        require(b.count == n, "right-hand side of length \(b.count) for a \(n) × \(n) system")
        var x = b
        for i in 0..<n {
            var sum = x[i]
            for k in 0..<i { sum -= lower[i * n + k] * x[k] }
            x[i] = sum / lower[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var sum = x[i]
            for k in (i + 1)..<n { sum -= lower[k * n + i] * x[k] }
            x[i] = sum / lower[i * n + i]
        }
        return x
    }

    /// A⁻¹, row-major (symmetric), column by column from `solve`.
    @usableFromInline
    package func inverse() -> [Double] {
        let n = order
        var result = [Double](repeating: 0, count: n * n)
        var unit = [Double](repeating: 0, count: n)
        for j in 0..<n {
            unit[j] = 1
            let column = solve(unit)
            unit[j] = 0
            for i in 0..<n { result[i * n + j] = column[i] }
        }
        // Symmetrize away the rounding differences between the two triangles.
        for i in 0..<n {
            for j in 0..<i {
                let mean = 0.5 * (result[i * n + j] + result[j * n + i])
                result[i * n + j] = mean
                result[j * n + i] = mean
            }
        }
        return result
    }
}

// MARK: - Normal equations and small helpers

/// Dense helpers for the normal equations, in Double. Matrices are row-major flat arrays.
@usableFromInline
package enum DenseLinearAlgebra {
    /// JᵀJ (`n × n`) and Jᵀr of an `m × n` Jacobian J and residuals r, accumulated in Double. Only the
    /// lower triangle is accumulated; the upper is mirrored.
    ///
    /// - Precondition: `jacobian.count == residuals.count * n`.
    @usableFromInline
    package static func normalEquations(
        jacobian j: [Double], residuals r: [Double], parameters n: Int
    ) -> (jtj: [Double], jtr: [Double]) {
        let m = r.count
        require(j.count == m * n, "a Jacobian with \(j.count) entries for \(m) residuals and \(n) parameters")
        var jtj = [Double](repeating: 0, count: n * n)
        var jtr = [Double](repeating: 0, count: n)
        for row in 0..<m {
            let base = row * n
            let ri = r[row]
            for a in 0..<n {
                let ja = j[base + a]
                if ja == 0 { continue }
                jtr[a] += ja * ri
                for b in 0...a { jtj[a * n + b] += ja * j[base + b] }
            }
        }
        for a in 0..<n {
            for b in 0..<a { jtj[b * n + a] = jtj[a * n + b] }
        }
        return (jtj, jtr)
    }

    /// Σ xᵢ².
    @usableFromInline
    package static func sumOfSquares(_ values: [Double]) -> Double {
        var sum = 0.0
        for value in values { sum += value * value }
        return sum
    }

    /// The diagonal of an `n × n` matrix.
    @usableFromInline
    package static func diagonal(_ matrix: [Double], order n: Int) -> [Double] { (0..<n).map { matrix[$0 * n + $0] } }
}
