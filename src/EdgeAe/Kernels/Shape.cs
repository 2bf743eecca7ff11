using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace EdgeAe.Kernels;

/// <summary>Argument checks generated models share: each names the parameter, the expected and the actual length.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Shape
{
    /// <summary>Throws an <see cref="ArgumentException"/> unless <paramref name="span"/> holds exactly <paramref name="expected"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(ReadOnlySpan<float> span, int expected, string parameterName)
    {
        if (span.Length != expected)
        {
            ThrowLength(parameterName, expected, span.Length);
        }
    }

    /// <summary>The number of samples in a batch of <paramref name="length"/> floats: 1 ≤ count ≤ <paramref name="maxBatchSize"/> whole samples, else an <see cref="ArgumentException"/>.</summary>
    public static int BatchCount(int length, int sampleSize, int maxBatchSize, string parameterName)
    {
        if (length == 0 || length % sampleSize != 0 || length / sampleSize > maxBatchSize)
        {
            throw new ArgumentException(
                $"Expected a batch of 1 to {maxBatchSize} samples of {sampleSize} floats in '{parameterName}' but found {length} floats.", parameterName);
        }

        return length / sampleSize;
    }

    /// <summary>Throws unless <paramref name="learningRate"/> is a positive finite number.</summary>
    public static void CheckLearningRate(float learningRate)
    {
        if (!(learningRate > 0f) || float.IsInfinity(learningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be a positive finite number.");
        }
    }

    /// <summary>One plain SGD step: p −= <paramref name="step"/>·g over the whole buffers.</summary>
    public static void Descend(Span<float> parameters, ReadOnlySpan<float> gradients, float step)
    {
        for (int k = 0; k < parameters.Length; k++)
        {
            parameters[k] -= step * gradients[k];
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowLength(string parameterName, int expected, int actual)
        => throw new ArgumentException($"Expected {expected} floats in '{parameterName}' but found {actual}.", parameterName);
}
