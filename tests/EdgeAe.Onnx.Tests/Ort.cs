using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAe.Onnx.Tests;

/// <summary>Runs an ONNX model in ONNX Runtime (one thread, all optimisations) on a batch of samples.</summary>
internal static class Ort
{
    /// <summary>
    /// Runs <paramref name="model"/> on samples of <paramref name="width"/> values, shaped [batch, <paramref name="sampleDims"/>]
    /// (default [batch, width]). With <c>session.x64quantprecision</c>: on x86-64 without VNNI, ONNX Runtime's default
    /// int8 products (VPMADDUBSW) saturate pairs of products at int16 and an exported int8 model's codes come out
    /// several steps from the exact ones; the option selects its exact kernels and changes nothing elsewhere.
    /// </summary>
    public static Dictionary<string, float[]> Run(byte[] model, string inputName, float[] batch, int width, int[]? sampleDims = null)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        options.AddSessionConfigEntry("session.x64quantprecision", "1");
        using var session = new InferenceSession(model, options);
        var tensor = new DenseTensor<float>(batch, [batch.Length / width, .. sampleDims ?? [width]]);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, tensor)]);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }

    /// <summary>max |a − b| divided by max |b| over the span (the error relative to the tensor's scale).</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double difference = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }

        return scale == 0 ? difference : difference / scale;
    }
}
