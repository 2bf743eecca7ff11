using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;
using EdgeAe.IO.Format;
using Microsoft.CodeAnalysis;

namespace EdgeAe.Generators.Baking;

/// <summary>A declaration that names a weight file, with the location of its <c>Weights = "…"</c> argument.</summary>
internal sealed record BakeRequest(TopologySpec Spec, LocationInfo? Location);

/// <summary>The bytes of one AdditionalFiles item (or why they could not be read), compared by value.</summary>
internal sealed record WeightFileContent(string Path, EquatableArray<byte> Bytes, string? ReadError);

/// <summary>One stored tensor placed in the parameter buffer.</summary>
internal sealed record BakedTensor(int LayerIndex, bool IsWeight, int Offset, int Count);

/// <summary>
/// Validated weights ready to emit: the whole parameter buffer (alignment padding included, so one
/// copy fills the model), the tensors in buffer order, and which file they came from.
/// </summary>
internal sealed record BakedWeights(string FileName, uint Crc32, int FileLength, EquatableArray<BakedTensor> Tensors, EquatableArray<float> Buffer)
{
    /// <summary>Bits of the file's code quantisation ('qant' section), 0 without one.</summary>
    public int CodecBits { get; init; }

    /// <summary>Per code value: the lower end of its range (empty without a 'qant' section).</summary>
    public EquatableArray<float> CodecMin { get; init; } = EquatableArray<float>.Empty;

    /// <summary>Per code value: the upper end of its range (empty without a 'qant' section).</summary>
    public EquatableArray<float> CodecMax { get; init; } = EquatableArray<float>.Empty;

    /// <summary>True when the file has an anomaly threshold ('anom' section, docs/anomaly.md).</summary>
    public bool HasAnomalyThreshold { get; init; }

    /// <summary>The anomaly threshold: a score strictly above it is anomalous.</summary>
    public float AnomalyThreshold { get; init; }

    /// <summary>The calibration method's code (0 manual, 1 percentile, 2 mean + K·σ, 3 gamma, 4 false-alarm rate).</summary>
    public byte AnomalyMethod { get; init; }

    /// <summary>The calibration method's parameter.</summary>
    public double AnomalyParameter { get; init; }

    /// <summary>How many scores the threshold was calibrated on.</summary>
    public int AnomalySamples { get; init; }

    /// <summary>The int8 model of an int8 weight file (then <see cref="Buffer"/> is empty), else null.</summary>
    public BakedInt8? Int8 { get; init; }
}

/// <summary>
/// One layer of a baked int8 model (docs/quantization.md): codes and constants as the weight file stores them, with
/// the biases already folded for the layer's input zero point (B = b − zp_x·Σᵢ W[i, j]) and the clamp of ReLU.
/// </summary>
internal sealed record BakedInt8Layer(
    int Shift,
    float ZScale,
    int ZZeroPoint,
    int ZMin,
    int ZMax,
    float OutputScale,
    int OutputZeroPoint,
    EquatableArray<int> Multipliers,
    EquatableArray<sbyte> Table,
    EquatableArray<sbyte> Weights,
    EquatableArray<int> FoldedBiases);

/// <summary>A baked int8 model: the input quantisation and every layer; <see cref="DesktopRefusal"/> is reported by a desktop build.</summary>
internal sealed record BakedInt8(float InputScale, int InputZeroPoint, EquatableArray<BakedInt8Layer> Layers, DiagnosticInfo DesktopRefusal);

/// <summary>The outcome of baking one declaration: weights to emit, or the diagnostics that say why not.</summary>
internal sealed record BakeResult(TopologySpec Spec, BakedWeights? Weights, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// Finds the weight file a declaration names among the AdditionalFiles, parses it with the runtime's
/// own format code (<see cref="WeightFileFormat"/>, linked into the generator) and checks that it was
/// saved for the declared topology. Never throws on bad input: every problem becomes a diagnostic.
/// </summary>
internal static class WeightBaker
{
    /// <summary>True when <paramref name="path"/> is named by one of <paramref name="names"/> (file name or path suffix).</summary>
    public static bool MatchesAny(string path, EquatableArray<string> names)
    {
        foreach (string name in names)
        {
            if (Matches(path, name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True when <paramref name="name"/> equals <paramref name="path"/> or is a suffix of it that starts
    /// after a directory separator. Separators are normalised and case is ignored.
    /// </summary>
    public static bool Matches(string path, string name)
    {
        string wanted = Wanted(name);
        if (wanted.Length == 0)
        {
            return false;
        }

        string candidate = Normalize(path);
        return string.Equals(candidate, wanted, StringComparison.OrdinalIgnoreCase)
            || candidate.EndsWith("/" + wanted, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>True when <paramref name="name"/> is empty once trimmed (or only <c>./</c>): it can match no file (EAE0029).</summary>
    public static bool NamesNoFile(string name) => Wanted(name).Length == 0;

    /// <summary>The name as <see cref="Matches"/> compares it: trimmed, forward slashes, without a leading <c>./</c>.</summary>
    private static string Wanted(string name)
    {
        string wanted = Normalize(name);
        return wanted.StartsWith("./", StringComparison.Ordinal) ? wanted.Substring(2) : wanted;
    }

    /// <summary>
    /// Reads the bytes of an AdditionalFiles item. <see cref="AdditionalText"/> only offers decoded
    /// text, which would corrupt a binary file, so this is the one place the generator touches the
    /// file system, and only for a file the project itself lists as an input of the compilation
    /// (docs/weight-file-format.md, "Baking weights into code").
    /// </summary>
    public static WeightFileContent Read(AdditionalText text, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
#pragma warning disable RS1035 // File I/O is banned in analyzers: AdditionalText cannot give the bytes of a binary AdditionalFiles item.
            byte[] bytes = File.ReadAllBytes(text.Path);
#pragma warning restore RS1035
            return new WeightFileContent(text.Path, new EquatableArray<byte>(bytes), null);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException)
        {
            return new WeightFileContent(text.Path, EquatableArray<byte>.Empty, exception.Message);
        }
    }

    public static BakeResult Bake(BakeRequest request, EquatableArray<WeightFileContent> files, CancellationToken cancellationToken)
    {
        TopologySpec spec = request.Spec;
        string name = spec.Weights ?? string.Empty;
        BakeResult Fail(DiagnosticDescriptor descriptor, params object[] arguments)
            => new(spec, null, new[] { DiagnosticInfo.Create(descriptor, request.Location, arguments) }.ToEquatableArray());

        WeightFileContent[] matches = files.Where(f => Matches(f.Path, name)).ToArray();
        if (matches.Length == 0)
        {
            return Fail(DiagnosticDescriptors.WeightFileNotFound, name);
        }

        if (matches.Length > 1)
        {
            return Fail(DiagnosticDescriptors.WeightFileAmbiguous, name, matches.Length, string.Join(", ", matches.Select(m => "'" + m.Path + "'")));
        }

        WeightFileContent file = matches[0];
        if (file.ReadError is not null)
        {
            return Fail(DiagnosticDescriptors.WeightFileUnreadable, name, file.Path, file.ReadError);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (!WeightFileFormat.TryParse(file.Bytes.AsSpan().ToArray(), out WeightFileData? data, out string error) || data is null)
        {
            return Fail(DiagnosticDescriptors.WeightFileUnreadable, name, file.Path, error);
        }

        var plan = ModelPlan.Create(spec);
        List<BakedTensor> tensors = Tensors(plan);
        string? mismatch = Compare(spec, tensors, data);
        if (mismatch is not null)
        {
            return Fail(DiagnosticDescriptors.WeightFileTopologyMismatch, name, spec.FullName, mismatch);
        }

        if (spec.HasCodec && data.CodecBits != 0 && data.CodecBits != spec.CodeBits)
        {
            return Fail(DiagnosticDescriptors.CodeBitsDifferFromWeightFile, spec.CodeBits, name, data.CodecBits);
        }

        ActivationKind codeActivation = spec.Layers[spec.CodeLayerIndex].Activation;
        if (spec.HasCodec && data.CodecBits == 0 && codeActivation is not (ActivationKind.Sigmoid or ActivationKind.Tanh))
        {
            return Fail(DiagnosticDescriptors.CodeRangeMissing, spec.CodeBits, codeActivation, name);
        }

        if (data.Int8 is not null)
        {
            return BakeInt8(request, plan, data, name);
        }

        var buffer = new float[plan.ParameterBufferLength];
        int k = 0;
        foreach (BakedTensor tensor in tensors)
        {
            Array.Copy(data.Parameters, k, buffer, tensor.Offset, tensor.Count);
            k += tensor.Count;
        }

        var weights = WithSections(new BakedWeights(name, data.Checksum, data.FileLength, tensors.ToEquatableArray(), new EquatableArray<float>(buffer)), data);
        return new BakeResult(spec, weights, EquatableArray<DiagnosticInfo>.Empty);
    }

    /// <summary><paramref name="weights"/> with the weight file's optional sections: the code quantisation ('qant') and the anomaly threshold ('anom').</summary>
    private static BakedWeights WithSections(BakedWeights weights, WeightFileData data) => weights with
    {
        CodecBits = data.CodecBits,
        CodecMin = new EquatableArray<float>(data.CodecMin),
        CodecMax = new EquatableArray<float>(data.CodecMax),
        HasAnomalyThreshold = data.HasAnomalyThreshold,
        AnomalyThreshold = data.AnomalyThreshold,
        AnomalyMethod = data.AnomalyMethod,
        AnomalyParameter = data.AnomalyParameter,
        AnomalySamples = data.AnomalySamples,
    };

    /// <summary>
    /// An int8 weight file: the firmware flavour runs it as an int8 model, with the file's code quantisation and anomaly
    /// threshold as for float32. It cannot train on the device (training there stays float32); a desktop build reports
    /// <see cref="BakedInt8.DesktopRefusal"/>.
    /// </summary>
    private static BakeResult BakeInt8(BakeRequest request, ModelPlan plan, WeightFileData data, string name)
    {
        TopologySpec spec = request.Spec;
        BakeResult Fail(string why)
            => new(spec, null, new[] { DiagnosticInfo.Create(DiagnosticDescriptors.Int8WeightsUnsupported, request.Location, name, why) }.ToEquatableArray());

        if (spec.OnDeviceTraining)
        {
            return Fail("an int8 model runs inference only (training on the device stays float32); bake the float32 file, or leave OnDeviceTraining out");
        }

        Int8Data int8 = data.Int8!;
        var layers = new List<BakedInt8Layer>();
        int inputZeroPoint = int8.InputZeroPoint;
        for (int l = 0; l < int8.Layers.Length; l++)
        {
            Int8LayerData layer = int8.Layers[l];
            LayerSpec layerSpec = spec.Layers[l];
            int n = layerSpec.Width;
            var folded = new int[n];
            for (int j = 0; j < n; j++)
            {
                int sum = 0;
                for (int i = 0; i < layerSpec.InputWidth; i++)
                {
                    sum += layer.Weights[(i * n) + j];
                }

                folded[j] = layer.Biases[j] - (inputZeroPoint * sum);
            }

            int zMin = layerSpec.Activation == ActivationKind.Relu ? Math.Max(-128, layer.ZZeroPoint) : -128;
            layers.Add(new BakedInt8Layer(
                layer.Shift, layer.ZScale, layer.ZZeroPoint, zMin, 127, layer.OutputScale, layer.OutputZeroPoint,
                new EquatableArray<int>(layer.Multipliers), new EquatableArray<sbyte>(layer.Table), new EquatableArray<sbyte>(layer.Weights),
                new EquatableArray<int>(folded)));
            inputZeroPoint = layer.OutputZeroPoint;
        }

        DiagnosticInfo desktop = DiagnosticInfo.Create(DiagnosticDescriptors.Int8WeightsUnsupported, request.Location, name,
            $"baking it is for the firmware flavour; on the desktop load it at run time into {spec.TypeName}.Int8 (WeightFile.Load), or bake the float32 file");
        var weights = WithSections(new BakedWeights(name, data.Checksum, data.FileLength, EquatableArray<BakedTensor>.Empty, EquatableArray<float>.Empty), data) with
        {
            Int8 = new BakedInt8(int8.InputScale, int8.InputZeroPoint, layers.ToEquatableArray(), desktop),
        };
        return new BakeResult(spec, weights, EquatableArray<DiagnosticInfo>.Empty);
    }

    /// <summary>
    /// The distinct tensors of the parameter buffer ordered by offset, exactly as the runtime's
    /// <c>WeightFile.Tensors</c> lists them: a W shared by tied layers counts once, for the first layer.
    /// </summary>
    public static List<BakedTensor> Tensors(ModelPlan plan)
    {
        var byOffset = new SortedDictionary<int, BakedTensor>();
        foreach (LayerPlan layer in plan.Layers)
        {
            if (!byOffset.ContainsKey(layer.WeightOffset))
            {
                byOffset.Add(layer.WeightOffset, new BakedTensor(layer.Layer.Index, true, layer.WeightOffset, layer.WeightCount));
            }

            byOffset[layer.BiasOffset] = new BakedTensor(layer.Layer.Index, false, layer.BiasOffset, layer.Layer.Width);
        }

        return byOffset.Values.ToList();
    }

    /// <summary>Null when <paramref name="data"/> fits the declared topology, else what differs (expected vs found).</summary>
    private static string? Compare(TopologySpec spec, List<BakedTensor> tensors, WeightFileData data)
    {
        var differences = new List<string>();
        if (data.InputWidth != spec.InputSize)
        {
            differences.Add(Invariant($"input width: expected {spec.InputSize}, found {data.InputWidth}"));
        }

        if (data.Loss != (byte)spec.Loss)
        {
            differences.Add($"loss: expected {spec.Loss}, found {LossName(data.Loss)}");
        }

        if (data.TiedWeights != spec.TiedWeights)
        {
            differences.Add($"tied weights: expected {Bool(spec.TiedWeights)}, found {Bool(data.TiedWeights)}");
        }

        if (data.Layers.Length != spec.Layers.Count)
        {
            differences.Add(Invariant($"layer count: expected {spec.Layers.Count}, found {data.Layers.Length}"));
        }

        for (int i = 0; i < Math.Max(spec.Layers.Count, data.Layers.Length); i++)
        {
            string expected = i < spec.Layers.Count ? Layer(spec.Layers[i]) : "(no layer)";
            string found = i < data.Layers.Length ? Layer(data.Layers[i]) : "(no layer)";
            if (expected != found)
            {
                differences.Add(Invariant($"layer {i}: expected {expected}, found {found}"));
            }
        }

        if (differences.Count == 0)
        {
            bool sameLayout = data.Int8 is not null || data.Tensors.Length == tensors.Count
                && data.Tensors.Zip(tensors, (f, e) => f.LayerIndex == e.LayerIndex && (f.Kind == TensorEntry.WeightKind) == e.IsWeight && f.Count == e.Count).All(same => same);
            if (sameLayout)
            {
                return null;
            }

            differences.Add("parameter layout: expected tensors [" + string.Join(", ", tensors.Select(t => Tensor(t.LayerIndex, t.IsWeight, t.Count)))
                + "], found [" + string.Join(", ", data.Tensors.Select(t => Tensor(t.LayerIndex, t.Kind == TensorEntry.WeightKind, t.Count))) + "]");
        }

        string expectedModel = DescribeModel(spec.InputSize, spec.Layers.Select(l => (l.Width, ActivationName((byte)l.Activation))), spec.Loss.ToString(), spec.TiedWeights);
        string foundModel = DescribeModel(data.InputWidth, data.Layers.Select(l => (l.Width, ActivationName(l.Activation))), LossName(data.Loss), data.TiedWeights);
        return $"expected {expectedModel}, found {foundModel}; {string.Join("; ", differences)}";
    }

    private static string DescribeModel(int input, IEnumerable<(int Width, string Activation)> layers, string loss, bool tied)
    {
        (int Width, string Activation)[] all = layers.ToArray();
        string widths = string.Join("→", new[] { input }.Concat(all.Select(l => l.Width)).Select(w => w.ToString(CultureInfo.InvariantCulture)));
        return $"{widths} ({string.Join(", ", all.Select(l => l.Activation))}), {loss}{(tied ? ", tied weights" : string.Empty)}";
    }

    private static string Layer(LayerSpec layer)
        => Invariant($"{WeightFileFormat.RoleName((byte)layer.Role)} {layer.InputWidth}→{layer.Width} {ActivationName((byte)layer.Activation)}");

    private static string Layer(LayerFingerprint layer)
        => Invariant($"{WeightFileFormat.RoleName(layer.Role)} {layer.InputWidth}→{layer.Width} {ActivationName(layer.Activation)}");

    private static string Tensor(int layer, bool isWeight, int count) => Invariant($"{(isWeight ? "W" : "b")}{layer}({count})");

    private static string LossName(byte loss)
        => Enum.IsDefined(typeof(LossKind), (int)loss) ? ((LossKind)loss).ToString() : Invariant($"loss {loss}");

    private static string ActivationName(byte activation)
        => Enum.IsDefined(typeof(ActivationKind), (int)activation) ? ((ActivationKind)activation).ToString() : Invariant($"activation {activation}");

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Normalize(string path) => path.Trim().Replace('\\', '/');

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
