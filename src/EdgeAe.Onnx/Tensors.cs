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
    /// <c>float_data</c>; int64 from <c>raw_data</c> or <c>int64_data</c>. Everything else is an <see cref="OnnxImportException"/>
    /// whose message starts with the file (<paramref name="source"/>) and then the tensor (<paramref name="what"/>), like the
    /// graph reader's other messages about the file's contents.
    /// </summary>
    public static Constant Read(TensorProto tensor, string name, string source, string what)
    {
        string where = $"{source}: {what}";
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

            // Checked before multiplying: dims such as [64, 2^58] must not wrap around to a small count.
            if (d != 0 && count > MaxElements / d)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} {Shape(dims)} has more than {MaxElements} values");
            }

            count *= d;
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
        => ReadValues(tensor, count, where, tensor.FloatData, "float32", "float_data", 4, BinaryPrimitives.ReadSingleLittleEndian);

    private static long[] ReadLongs(TensorProto tensor, long count, string where)
        => ReadValues(tensor, count, where, tensor.Int64Data, "int64", "int64_data", 8, BinaryPrimitives.ReadInt64LittleEndian);

    /// <summary>The values from <c>raw_data</c> (little-endian, <paramref name="size"/> bytes each) or the typed field, never both.</summary>
    private static T[] ReadValues<T>(TensorProto tensor, long count, string where, Google.Protobuf.Collections.RepeatedField<T> typed, string type, string field, int size, ReadFromBytes<T> read)
    {
        bool raw = !tensor.RawData.IsEmpty;
        if (raw && typed.Count > 0)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} has both raw_data and {field}");
        }

        long found = raw ? tensor.RawData.Length : typed.Count;
        long expected = raw ? size * count : count;
        if (found != expected)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor,
                $"{where} {Shape(tensor.Dims)} needs {count} {type} values but holds {(raw ? $"{found} bytes of raw_data" : $"{found} in {field}")}");
        }

        var values = new T[count];
        if (raw)
        {
            ReadOnlySpan<byte> bytes = tensor.RawData.Span;
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = read(bytes.Slice(size * i));
            }
        }
        else
        {
            typed.CopyTo(values, 0);
        }

        return values;
    }

    private delegate T ReadFromBytes<T>(ReadOnlySpan<byte> bytes);
}
