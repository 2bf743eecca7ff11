using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;
using Onnx;

namespace EdgeAe.Onnx;

/// <summary>A constant of the graph: its dimensions and its values (float32 data as floats, int64 data as longs).</summary>
internal sealed class Constant
{
    public Constant(string name, long[] dims, float[]? floats, long[]? longs)
    {
        Name = name;
        Dims = dims;
        Floats = floats;
        Longs = longs;
    }

    /// <summary>The initializer's or node output's name (for messages).</summary>
    public string Name { get; }

    public long[] Dims { get; }

    /// <summary>The values of a float32 tensor, row-major; null for an int64 tensor.</summary>
    public float[]? Floats { get; }

    /// <summary>The values of an int64 tensor (shapes); null for a float32 tensor.</summary>
    public long[]? Longs { get; }

    public int Rank => Dims.Length;

    public string Shape => Tensors.Shape(Dims);
}

/// <summary>Reads and writes ONNX <see cref="TensorProto"/>s of the two element types the importer uses.</summary>
internal static class Tensors
{
    /// <summary>The most values one tensor may hold (2^28, the generator's parameter limit).</summary>
    public const long MaxElements = 1L << 28;

    public static string Shape(IEnumerable<long> dims) => "[" + string.Join(", ", dims.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    /// <summary>
    /// The values of <paramref name="tensor"/> as a <see cref="Constant"/>: float32 from <c>raw_data</c> (little-endian) or
    /// <c>float_data</c>; int64 from <c>raw_data</c> or <c>int64_data</c>. Everything else is an <see cref="OnnxImportException"/>.
    /// </summary>
    public static Constant Read(TensorProto tensor, string name, string where)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
        {
            string file = tensor.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value ?? "?";
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor,
                $"{where} keeps its data in an external file ('{file}'); EdgeAe imports self-contained files (in PyTorch: torch.onnx.export(..., external_data=False); in the onnx package: onnx.save(model, path, save_as_external_data=False))");
        }

        if (tensor.Segment is not null)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} is a segment of a larger tensor; EdgeAe imports whole tensors");
        }

        long[] dims = tensor.Dims.ToArray();
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} has a negative dimension: {Shape(dims)}");
            }

            count *= d;
            if (count > MaxElements)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} {Shape(dims)} has more than {MaxElements} values");
            }
        }

        switch ((TensorProto.Types.DataType)tensor.DataType)
        {
            case TensorProto.Types.DataType.Float:
                return new Constant(name, dims, ReadFloats(tensor, count, where), null);
            case TensorProto.Types.DataType.Int64:
                return new Constant(name, dims, null, ReadLongs(tensor, count, where));
            default:
                throw new OnnxImportException(OnnxImportError.UnsupportedTensor,
                    $"{where} has element type {TypeName(tensor.DataType)}; supported: float32 (weights and biases) and int64 (shapes)");
        }
    }

    /// <summary>A float32 tensor proto with the values in <c>raw_data</c> (little-endian), as every current exporter writes.</summary>
    public static TensorProto Float(string name, long[] dims, ReadOnlySpan<float> values)
    {
        var raw = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(4 * i), values[i]);
        }

        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    /// <summary>The ONNX name of an element type code.</summary>
    public static string TypeName(int dataType)
        => Enum.IsDefined(typeof(TensorProto.Types.DataType), dataType)
            ? ((TensorProto.Types.DataType)dataType).ToString().ToLowerInvariant()
            : "code " + dataType.ToString(CultureInfo.InvariantCulture);

    private static float[] ReadFloats(TensorProto tensor, long count, string where)
    {
        bool raw = !tensor.RawData.IsEmpty;
        if (raw && tensor.FloatData.Count > 0)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} has both raw_data and float_data");
        }

        long found = raw ? tensor.RawData.Length : tensor.FloatData.Count;
        long expected = raw ? 4 * count : count;
        if (found != expected)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor,
                $"{where} {Shape(tensor.Dims)} needs {count} float32 values but holds {(raw ? $"{found} bytes of raw_data" : $"{found} in float_data")}");
        }

        var values = new float[count];
        if (raw)
        {
            ReadOnlySpan<byte> bytes = tensor.RawData.Span;
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * i));
            }
        }
        else
        {
            tensor.FloatData.CopyTo(values, 0);
        }

        return values;
    }

    private static long[] ReadLongs(TensorProto tensor, long count, string where)
    {
        bool raw = !tensor.RawData.IsEmpty;
        if (raw && tensor.Int64Data.Count > 0)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} has both raw_data and int64_data");
        }

        long found = raw ? tensor.RawData.Length : tensor.Int64Data.Count;
        long expected = raw ? 8 * count : count;
        if (found != expected)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor,
                $"{where} {Shape(tensor.Dims)} needs {count} int64 values but holds {(raw ? $"{found} bytes of raw_data" : $"{found} in int64_data")}");
        }

        var values = new long[count];
        if (raw)
        {
            ReadOnlySpan<byte> bytes = tensor.RawData.Span;
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(8 * i));
            }
        }
        else
        {
            tensor.Int64Data.CopyTo(values, 0);
        }

        return values;
    }
}
