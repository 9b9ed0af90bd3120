// Programmer errors: conditions a caller must meet, checked in every build configuration with a
// message. (Swift's `precondition` keeps its check in optimized builds but drops the message, so a
// release build would stop with nothing but "Illegal instruction".)

/// Stops the program with `message` (and the caller's file and line) unless `condition` holds, in
/// debug and release builds alike.
@inlinable @inline(__always)
package func require(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID,
    line: UInt = #line
) {
    if _slowPath(!condition()) { programmingError(message(), file: file, line: line) }
}

/// Stops the program with `message`: a programmer error (a broken precondition).
@usableFromInline @inline(never)
package func programmingError(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message, file: file, line: line)
}

/// The number of elements of a tensor of `shape`, with the shape checked: no negative axis, and a
/// product (of the nonzero axes, so that every partial product of the shape fits too) that fits in
/// an `Int`. The stop message names the shape.
@inlinable
package func checkedElementCount(_ shape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Int {
    var count = 1
    var nonzero = 1
    for axis in shape {
        require(axis >= 0, "tensor shape \(describeShape(shape)) has a negative axis", file: file, line: line)
        count &*= axis
        if axis != 0 {
            let (product, overflow) = nonzero.multipliedReportingOverflow(by: axis)
            require(
                !overflow, "tensor shape \(describeShape(shape)) has more elements than an Int can count", file: file, line: line)
            nonzero = product
        }
    }
    return count
}
