using EdgeAe.Compression;
using EdgeAe.Data;
using EdgeAe.IO.Format;
using EdgeAe.Quantization;

namespace EdgeAe.IO;

/// <summary>An int8 model read from a weight file, with the normalisation stored beside it.</summary>
/// <param name="Parameters">The int8 model.</param>
/// <param name="Normalization">The normalisation its inputs went through.</param>
public sealed record QuantizedWeights(QuantizedParameters Parameters, Normalization Normalization);

/// <content>Int8 models (element type 2 of the 'PARM' section; docs/weight-file-format.md).</content>
public static partial class WeightFile
{
    /// <summary>
    /// Writes the int8 model <paramref name="parameters"/> with <paramref name="normalization"/> (and optionally the
    /// code quantiser <paramref name="codec"/>) to <paramref name="path"/> atomically, like the float32 save.
    /// </summary>
    /// <exception cref="WeightFileException">The folder is missing or writing failed.</exception>
    public static void Save(string path, QuantizedParameters parameters, Normalization normalization, CodeQuantizer? codec = null)
        => Save(path, parameters, normalization, new WeightFileExtras { Codec = codec });

    /// <summary>
    /// Writes the int8 model <paramref name="parameters"/> with <paramref name="normalization"/> and the optional sections
    /// in <paramref name="extras"/> (code quantisation, PCA baseline, anomaly threshold) to <paramref name="path"/>
    /// atomically, like the float32 save. A threshold belongs with the scores of the model it was calibrated on: pass
    /// one calibrated on this int8 model, not the float32 model's.
    /// </summary>
    /// <exception cref="WeightFileException">The folder is missing or writing failed.</exception>
    public static void Save(string path, QuantizedParameters parameters, Normalization normalization, WeightFileExtras extras)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentNullException.ThrowIfNull(extras);
        string fullPath = FolderMustExist(path);
        WriteAtomically(path, fullPath, ToBytes(parameters, normalization, extras), OpenTemporaryFile);
    }

    /// <summary>Reads the int8 model stored at <paramref name="path"/> and its normalisation.</summary>
    /// <exception cref="WeightFileException">The file cannot be read, is invalid, or holds float32 parameters (<see cref="WeightFileErrorReason.PrecisionMismatch"/>).</exception>
    public static QuantizedWeights ReadQuantized(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        WeightFileData data = Parse(ReadBytes(path), path);
        if (data.Int8 is null)
        {
            throw new WeightFileException(WeightFileErrorReason.PrecisionMismatch, $"Weight file '{path}' holds float32 parameters, not an int8 model; quantise it first (edgeae quantize --weights {path} --out <int8 file>).");
        }

        return new QuantizedWeights(ToQuantized(data), ToNormalization(data));
    }

    /// <summary>The bytes of an int8 weight file.</summary>
    internal static byte[] ToBytes(QuantizedParameters parameters, Normalization normalization, CodeQuantizer? codec = null)
        => ToBytes(parameters, normalization, new WeightFileExtras { Codec = codec });

    /// <summary>The bytes of an int8 weight file with the optional sections in <paramref name="extras"/>.</summary>
    internal static byte[] ToBytes(QuantizedParameters parameters, Normalization normalization, WeightFileExtras extras)
    {
        if (normalization.Kind != NormalizationKind.None && normalization.Width != parameters.InputSize)
        {
            throw new ArgumentException($"The normalisation describes {normalization.Width} features but the model takes {parameters.InputSize} inputs.", nameof(normalization));
        }

        var data = new WeightFileData
        {
            InputWidth = parameters.InputSize,
            Loss = (byte)parameters.Loss,
            TiedWeights = parameters.TiedWeights,
            Layers = parameters.Fingerprint,
            NormalizationKind = (byte)normalization.Kind,
            NormalizationOffset = normalization.Offset.ToArray(),
            NormalizationScale = normalization.Scale.ToArray(),
            ElementType = WeightFileFormat.ElementTypeInt8,
            Int8 = parameters.Data,
        };
        if (extras.Codec is { } codec)
        {
            int codeSize = parameters.Layers[parameters.CodeLayerIndex].Width;
            if (codec.CodeSize != codeSize)
            {
                throw new ArgumentException($"The code quantiser describes {codec.CodeSize} code values but the model's code is {codeSize} wide.", nameof(codec));
            }

            data.CodecBits = codec.Bits;
            data.CodecMin = codec.Min.ToArray();
            data.CodecMax = codec.Max.ToArray();
        }

        SetExtras(data, extras, parameters.InputSize);
        return WeightFileFormat.Write(data);
    }

    /// <summary>The bytes of an int8 model's weight file (its loaded parameters).</summary>
    private static byte[] ToBytes(IQuantizedAutoencoder model, Normalization normalization, WeightFileExtras extras)
        => ToBytes(model.Quantization ?? throw new InvalidOperationException($"{model.GetType().FullName} has no int8 parameters to save."), normalization, extras);

    /// <summary>An int8 file into an int8 model, a float32 file into a float32 model; anything else names both.</summary>
    private static void CheckPrecision(WeightFileData data, IAutoencoder model, string source)
    {
        bool fileInt8 = data.Int8 is not null;
        bool modelInt8 = model is IQuantizedAutoencoder;
        if (fileInt8 == modelInt8)
        {
            return;
        }

        string type = model.GetType().FullName ?? model.Topology.Name;
        throw new WeightFileException(WeightFileErrorReason.PrecisionMismatch, fileInt8
            ? $"Weight file '{source}' holds an int8 model but {type} is a float32 model; load it into the int8 companion {model.Topology.Name}.Int8."
            : $"Weight file '{source}' holds float32 parameters but {type} is an int8 model; load it into {model.Topology.Name}, or quantise it first (edgeae quantize).");
    }

    private static Normalization LoadInt8(WeightFileData data, IQuantizedAutoencoder model)
    {
        Normalization normalization = ToNormalization(data);
        model.Load(ToQuantized(data));
        return normalization;
    }

    private static QuantizedParameters ToQuantized(WeightFileData data)
        => new(data.InputWidth, (LossKind)data.Loss, data.TiedWeights, data.Layers, data.Int8!);
}
