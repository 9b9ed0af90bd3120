import RNNODETensors

/// The structure of a Jacobian ∂f/∂y, which decides how implicit methods store it and solve with it.
///
/// ```swift
/// implicit: ImplicitSolverSettings(jacobian: .banded(lower: 2, upper: 2))   // a method-of-lines PDE
/// ```
public enum JacobianStructure: Sendable, Hashable, CustomStringConvertible {
    /// An n×n matrix, LU-factored with partial pivoting: O(n³) per factorization.
    case dense
    /// Nonzero only within `lower` diagonals below and `upper` above the main diagonal
    /// (∂fᵢ/∂yⱼ = 0 unless −upper ≤ i − j ≤ lower): banded LU with partial pivoting, O(n · lower ·
    /// (lower + upper)) per factorization, and finite-difference Jacobians in lower + upper + 1
    /// evaluations whatever n.
    case banded(lower: Int, upper: Int)

    public var description: String {
        switch self {
        case .dense: return "dense"
        case .banded(let lower, let upper): return "banded (lower \(lower), upper \(upper))"
        }
    }
}

/// A Jacobian being written by a vector field (``VectorField/jacobian(_:_:into:)``): entry
/// `[i, j]` is ∂fᵢ/∂yⱼ, with i and j numbering the state's components (see
/// ``ODEState/componentCount``). Entries start at zero; write the nonzero ones. For a
/// ``JacobianStructure/banded(lower:upper:)`` Jacobian, entries outside the band read as zero and
/// must not be written.
///
/// A view into the solver's storage, valid only during the call it is passed to.
public struct JacobianMatrix<Scalar: TensorScalar> {
    /// n, the number of components.
    public let dimension: Int
    public let structure: JacobianStructure
    /// Column-major: dense n×n (entry (i, j) at j·n + i), or band storage with `rows` rows per
    /// column, entry (i, j) at row `offset + i − j` of column j.
    @usableFromInline let storage: UnsafeMutablePointer<Scalar>
    @usableFromInline let rows: Int
    @usableFromInline let offset: Int
    @usableFromInline let lower: Int
    @usableFromInline let upper: Int

    @inlinable
    init(dimension: Int, structure: JacobianStructure, storage: UnsafeMutablePointer<Scalar>) {
        self.dimension = dimension
        self.structure = structure
        self.storage = storage
        switch structure {
        case .dense:
            // Entry (i, j) at j·n + i: the band formula with offset j (see `index`).
            (rows, offset, lower, upper) = (dimension, 0, dimension - 1, dimension - 1)
        case .banded(let kl, let ku):
            (rows, offset, lower, upper) = (kl + ku + 1, ku, kl, ku)
        }
    }

    /// Where entry (i, j) is stored.
    @inlinable @inline(__always)
    func index(_ i: Int, _ j: Int) -> Int {
        if case .dense = structure { return j * rows + i }
        return j * rows + offset + i - j
    }

    /// The number of scalars the storage of a matrix of this structure and dimension takes.
    @inlinable
    static func storageCount(dimension n: Int, structure: JacobianStructure) -> Int {
        switch structure {
        case .dense: return n * n
        case .banded(let kl, let ku): return (kl + ku + 1) * n
        }
    }

    /// Whether (row, column) lies in the structure.
    @inlinable
    public func contains(row i: Int, column j: Int) -> Bool {
        i >= 0 && j >= 0 && i < dimension && j < dimension && i - j <= lower && j - i <= upper
    }

    /// ∂fᵢ/∂yⱼ.
    @inlinable
    public subscript(row: Int, column: Int) -> Scalar {
        get {
            require(
                row >= 0 && row < dimension && column >= 0 && column < dimension,
                "JacobianMatrix: index [\(row), \(column)] out of range for dimension \(dimension)")
            guard contains(row: row, column: column) else { return 0 }
            return storage[index(row, column)]
        }
        nonmutating set {
            require(
                contains(row: row, column: column),
                "JacobianMatrix: entry [\(row), \(column)] lies outside the \(structure) structure of dimension \(dimension)")
            storage[index(row, column)] = newValue
        }
    }

    /// Sets every entry to zero.
    @inlinable
    func clear() {
        storage.update(repeating: 0, count: rows * dimension)
    }
}

// MARK: - LU factorizations

/// LU with partial pivoting of the iteration matrix M = I − hγJ of an implicit step, in the storage
/// its ``JacobianStructure`` calls for, and the solves with it. The matrix is formed from the
/// Jacobian and factored in place; `pivots` records the row interchanges.
/// Exchanges two entries of a buffer.
@inlinable @inline(__always)
func swapEntries<Scalar>(_ p: UnsafeMutablePointer<Scalar>, _ i: Int, _ j: Int) {
    let value = p[i]
    p[i] = p[j]
    p[j] = value
}

@usableFromInline
package struct IterationMatrix<Scalar: TensorScalar> {
    @usableFromInline let n: Int
    @usableFromInline let structure: JacobianStructure
    /// Dense: n×n column-major. Banded: LAPACK band storage with kl extra rows for the fill-in of
    /// pivoting, `rows` = 2kl + ku + 1, entry (i, j) at row kl + ku + i − j of column j.
    @usableFromInline let storage: UnsafeMutablePointer<Scalar>
    @usableFromInline let pivots: UnsafeMutablePointer<Int>
    @usableFromInline let rows: Int

    @inlinable
    init(dimension n: Int, structure: JacobianStructure) {
        self.n = n
        self.structure = structure
        switch structure {
        case .dense: rows = n
        case .banded(let kl, let ku): rows = 2 * kl + ku + 1
        }
        storage = .allocate(capacity: Swift.max(rows * n, 1))
        storage.initialize(repeating: 0, count: Swift.max(rows * n, 1))
        pivots = .allocate(capacity: Swift.max(n, 1))
        pivots.initialize(repeating: 0, count: Swift.max(n, 1))
    }

    @inlinable
    func deallocate() {
        storage.deallocate()
        pivots.deallocate()
    }

    /// Forms I − scale · J from `jacobian` and factors it. Returns false when a pivot is zero or not
    /// finite (the matrix is singular to working precision, or J held NaN).
    @inlinable
    func factor(identityMinus scale: Scalar, times jacobian: JacobianMatrix<Scalar>) -> Bool {
        switch structure {
        case .dense:
            for k in 0..<(n * n) { storage[k] = -scale * jacobian.storage[k] }
            for i in 0..<n { storage[i * n + i] += 1 }
            return factorDense()
        case .banded(let kl, let ku):
            storage.update(repeating: 0, count: rows * n)
            for j in 0..<n {
                let source = jacobian.storage + j * jacobian.rows + ku - j
                let target = storage + j * rows + kl + ku - j
                for i in Swift.max(0, j - ku)...Swift.min(n - 1, j + kl) {
                    target[i] = -scale * source[i]
                }
                storage[j * rows + kl + ku] += 1
            }
            return factorBanded(kl: kl, ku: ku)
        }
    }

    @inlinable
    func factorDense() -> Bool {
        let a = storage
        for k in 0..<n {
            var p = k
            var largest = Swift.abs(a[k * n + k])
            for i in (k + 1)..<Swift.max(n, k + 1) where Swift.abs(a[k * n + i]) > largest {
                largest = Swift.abs(a[k * n + i])
                p = i
            }
            pivots[k] = p
            guard largest != 0, largest.isFinite else { return false }
            if p != k {
                for j in 0..<n { swapEntries(a, j * n + k, j * n + p) }
            }
            let inverse = 1 / a[k * n + k]
            for i in (k + 1)..<Swift.max(n, k + 1) { a[k * n + i] *= inverse }
            for j in (k + 1)..<Swift.max(n, k + 1) {
                let akj = a[j * n + k]
                if akj == 0 { continue }
                for i in (k + 1)..<n { a[j * n + i] -= a[k * n + i] * akj }
            }
        }
        return true
    }

    /// Band LU with partial pivoting (the algorithm of LAPACK's gbtf2).
    @inlinable
    func factorBanded(kl: Int, ku: Int) -> Bool {
        let ab = storage
        let kv = kl + ku  // the row of the diagonal
        var ju = 0  // the last column touched by the fill-in so far
        for j in 0..<n {
            let km = Swift.min(kl, n - 1 - j)
            var p = 0
            var largest = Swift.abs(ab[j * rows + kv])
            for r in stride(from: 1, through: km, by: 1) where Swift.abs(ab[j * rows + kv + r]) > largest {
                largest = Swift.abs(ab[j * rows + kv + r])
                p = r
            }
            pivots[j] = j + p
            guard largest != 0, largest.isFinite else { return false }
            ju = Swift.max(ju, Swift.min(j + ku + p, n - 1))
            if p != 0 {
                // Swap rows j and j + p over columns j…ju.
                for c in j...ju {
                    swapEntries(ab, c * rows + kv + j - c, c * rows + kv + j + p - c)
                }
            }
            let inverse = 1 / ab[j * rows + kv]
            for r in stride(from: 1, through: km, by: 1) { ab[j * rows + kv + r] *= inverse }
            if ju > j {
                for c in (j + 1)...ju {
                    let ujc = ab[c * rows + kv + j - c]
                    if ujc == 0 { continue }
                    for r in stride(from: 1, through: km, by: 1) {
                        ab[c * rows + kv + j + r - c] -= ab[j * rows + kv + r] * ujc
                    }
                }
            }
        }
        return true
    }

    /// Solves M x = b in place (`b` holds x on return), with the factors from ``factor(identityMinus:times:)``.
    @inlinable
    func solve(_ b: UnsafeMutablePointer<Scalar>) {
        switch structure {
        case .dense:
            let a = storage
            // The factorization swapped whole rows (L included), so the interchanges come first.
            for k in 0..<n where pivots[k] != k { swapEntries(b, k, pivots[k]) }
            for k in 0..<n {
                let bk = b[k]
                if bk != 0 { for i in (k + 1)..<Swift.max(n, k + 1) { b[i] -= a[k * n + i] * bk } }
            }
            var k = n - 1
            while k >= 0 {
                b[k] /= a[k * n + k]
                let bk = b[k]
                if bk != 0 { for i in 0..<k { b[i] -= a[k * n + i] * bk } }
                k -= 1
            }
        case .banded(let kl, let ku):
            let ab = storage
            let kv = kl + ku
            for j in 0..<n {
                let p = pivots[j]
                if p != j { swapEntries(b, j, p) }
                let bj = b[j]
                if bj != 0 {
                    for r in stride(from: 1, through: Swift.min(kl, n - 1 - j), by: 1) {
                        b[j + r] -= ab[j * rows + kv + r] * bj
                    }
                }
            }
            var j = n - 1
            while j >= 0 {
                b[j] /= ab[j * rows + kv]
                let bj = b[j]
                if bj != 0 {
                    for i in Swift.max(0, j - kv)..<j { b[i] -= ab[j * rows + kv + i - j] * bj }
                }
                j -= 1
            }
        }
    }
}
