using System.Runtime.InteropServices;

namespace EdgeAe;

/// <summary>
/// A fixed-length float buffer whose first element sits on a 64-byte boundary, allocated once on
/// the pinned object heap (it never moves, so the alignment holds for its lifetime). Generated
/// models keep their parameters and gradients in these, so SIMD loads never straddle cache lines.
/// </summary>
public sealed class AlignedBuffer
{
    /// <summary>Alignment of the first element in bytes.</summary>
    public const int AlignmentBytes = 64;

    private readonly float[] _storage;
    private readonly int _origin;

    /// <summary>Allocates <paramref name="length"/> zeroed floats.</summary>
    public AlignedBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        const int slack = AlignmentBytes / sizeof(float);
        _storage = GC.AllocateArray<float>(length + slack, pinned: true);
        GCHandle handle = GCHandle.Alloc(_storage, GCHandleType.Pinned);
        try
        {
            long address = handle.AddrOfPinnedObject();
            int misalignment = (int)(address % AlignmentBytes);
            _origin = misalignment == 0 ? 0 : (AlignmentBytes - misalignment) / sizeof(float);
        }
        finally
        {
            handle.Free();
        }

        Length = length;
    }

    /// <summary>Number of floats.</summary>
    public int Length { get; }

    /// <summary>The buffer as a span.</summary>
    public Span<float> Span => new(_storage, _origin, Length);

    /// <summary>A reference to the first (64-byte aligned) element.</summary>
    public ref float Reference => ref _storage[_origin];
}
