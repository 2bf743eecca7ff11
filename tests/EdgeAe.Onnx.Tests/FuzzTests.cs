using System.Diagnostics;
using EdgeAe.IO.Format;
using Google.Protobuf;
using Onnx;

namespace EdgeAe.Onnx.Tests;

/// <summary>
/// Random edits of valid ONNX files never crash the importer: every case imports, or ends in its typed
/// <see cref="OnnxImportException"/>; an import that succeeds yields a valid weight file. Half the edits are on the
/// bytes (most then fail protobuf decoding), half on the decoded messages (so the graph checks are reached).
/// </summary>
public sealed class FuzzTests
{
    /// <summary>10,000 in the suite (a few seconds); <c>EDGEAE_ONNX_FUZZ_CASES=N</c> runs N (docs/onnx.md).</summary>
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("EDGEAE_ONNX_FUZZ_CASES"), out int n) && n > 0 ? n : 10_000;

    private static readonly string[] Ops =
        ["Gemm", "MatMul", "Add", "Transpose", "Sigmoid", "Tanh", "Relu", "Identity", "Flatten", "Reshape", "Constant", "Elu", "Mul", ""];

    private static readonly string[] AttributeNames = ["alpha", "beta", "transA", "transB", "perm", "axis", "allowzero", "broadcast", "value", "value_ints", "value_float"];

    private static readonly string[] MetadataKeys = EdgeAeMetadata.Keys;

    [Fact]
    public void Random_edits_only_ever_end_in_the_typed_error()
    {
        byte[][] seeds = Seeds();
        var random = new Random(20261202);
        int imported = 0, rejected = 0;
        var reasons = new Dictionary<OnnxImportError, int>();
        var escaped = new List<string>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Cases; i++)
        {
            byte[] seed = seeds[random.Next(seeds.Length)];
            byte[] bytes = i % 2 == 0 ? MutateBytes(seed, random) : MutateMessage(seed, random);
            var options = new OnnxImportOptions
            {
                CodeLayer = random.Next(4) == 0 ? random.Next(-1, 5) : null,
                CodeOutput = random.Next(8) == 0 ? "code" : null,
                Loss = random.Next(4) == 0 ? (LossKind)random.Next(2) : null,
            };
            try
            {
                ImportedModel model = OnnxImporter.Import(bytes, $"case{i}.onnx", options);
                Assert.True(WeightFileFormat.TryParse(model.WeightFile.ToArray(), out _, out string error), $"case {i}: the imported weight file is invalid: {error}");
                imported++;
            }
            catch (OnnxImportException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                reasons[e.Reason] = reasons.GetValueOrDefault(e.Reason) + 1;
                rejected++;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                escaped.Add($"case {i}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }

        TestContext.Current.SendDiagnosticMessage(
            $"{Cases} cases in {clock.Elapsed.TotalSeconds:F1} s: {imported} imported, {rejected} rejected ({string.Join(", ", reasons.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value}"))}), {escaped.Count} escaped");
        Assert.True(escaped.Count == 0, $"{escaped.Count} cases escaped as other exceptions:\n{string.Join("\n", escaped.Take(5))}");
        Assert.True(imported > 100 && rejected > 100, $"the mutations should both keep and break files ({imported} imported, {rejected} rejected)");
    }

    /// <summary>Valid files of every form, an EdgeAe export with metadata, and the conformance models.</summary>
    private static byte[][] Seeds()
    {
        int[] widths = [8, 6, 3, 6, 8];
        var reference = new ReferenceAe(2, widths, ["Relu", "Tanh", "Relu", "Sigmoid"]);
        var tied = new ReferenceAe(3, widths, ["Sigmoid", "Sigmoid", "Sigmoid", "Sigmoid"], tied: true);
        var exported = new AutoencoderData
        {
            InputSize = 8,
            Loss = LossKind.SquaredError,
            TiedWeights = true,
            Layers = tied.W.Select((w, l) => new DenseLayer(l == 1 ? LayerRole.Code : l < 1 ? LayerRole.Encoder : l == 3 ? LayerRole.Output : LayerRole.Decoder,
                widths[l], widths[l + 1], ActivationKind.Sigmoid, w, tied.B[l], l >= 2 ? 3 - l : -1)).ToArray(),
            Normalization = new Data.Normalization(Data.NormalizationKind.Scale, new float[8], Enumerable.Repeat(2f, 8).ToArray()),
            CodecBits = 8,
            CodecMin = [-1f, -1f, -1f],
            CodecMax = [1f, 1f, 1f],
            Threshold = new Anomaly.AnomalyThreshold(0.25f, new Anomaly.CalibrationMethod(Anomaly.CalibrationKind.MeanStd, 3), 100),
            Baseline = new BaselineData(100, 2f, new float[8], [1f, 0.5f], Enumerable.Range(0, 16).Select(i => i / 16f).ToArray()),
        };
        string conformance = Path.Combine(AppContext.BaseDirectory, "Conformance");
        return
        [
            reference.TorchScript(9, out _), reference.Dynamo(13, 1, out _), reference.Tf2onnx(18, out _), reference.FeatureMajor(13),
            tied.TorchScript(13, out _), OnnxExporter.Build(exported, new OnnxExportOptions(), "Fuzz").ToByteArray(),
            .. Directory.GetFiles(conformance, "model.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes),
        ];
    }

    private static byte[] MutateBytes(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes.InsertRange(at, Enumerable.Range(0, 1 + random.Next(8)).Select(_ => (byte)random.Next(256)));
                    break;
                case 3:
                    bytes.RemoveRange(at, Math.Min(1 + random.Next(16), bytes.Count - at));
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    int length = Math.Min(1 + random.Next(32), bytes.Count - at);
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
            }
        }

        return [.. bytes];
    }

    private static byte[] MutateMessage(byte[] seed, Random random)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(seed);
        GraphProto g = model.Graph;
        int edits = random.Next(4) == 0 ? 2 : 1;
        for (int e = 0; e < edits; e++)
        {
            NodeProto? node = g.Node.Count > 0 ? g.Node[random.Next(g.Node.Count)] : null;
            TensorProto? tensor = g.Initializer.Count > 0 ? g.Initializer[random.Next(g.Initializer.Count)] : null;
            string[] names = g.Node.SelectMany(n => n.Output).Concat(g.Initializer.Select(t => t.Name)).Concat(g.Input.Select(i => i.Name)).Append("").Append("missing").ToArray();
            switch (random.Next(17))
            {
                case 16 when tensor is not null && tensor.RawData.Length >= 4:
                    // A changed weight: the file stays valid.
                    byte[] raw = tensor.RawData.ToByteArray();
                    BitConverter.GetBytes((random.NextSingle() * 8) - 4).CopyTo(raw, 4 * random.Next(raw.Length / 4));
                    tensor.RawData = ByteString.CopyFrom(raw);
                    break;
                case 0 when node is not null:
                    node.OpType = Ops[random.Next(Ops.Length)];
                    break;
                case 1 when node is not null:
                    if (node.Input.Count > 0 && random.Next(2) == 0)
                    {
                        node.Input.RemoveAt(random.Next(node.Input.Count));
                    }
                    else
                    {
                        node.Input.Insert(random.Next(node.Input.Count + 1), names[random.Next(names.Length)]);
                    }

                    break;
                case 2 when node is not null && node.Input.Count > 0:
                    node.Input[random.Next(node.Input.Count)] = names[random.Next(names.Length)];
                    break;
                case 3 when node is not null:
                    g.Node.Remove(node);
                    if (random.Next(2) == 0)
                    {
                        g.Node.Insert(random.Next(g.Node.Count + 1), node);
                    }

                    break;
                case 4 when node is not null:
                    node.Attribute.Add(RandomAttribute(random));
                    break;
                case 5 when node is not null && node.Attribute.Count > 0:
                    AttributeProto a = node.Attribute[random.Next(node.Attribute.Count)];
                    a.I = RandomLong(random);
                    a.F = random.Next(4) == 0 ? float.NaN : (random.NextSingle() * 4) - 2;
                    a.Ints.Add(RandomLong(random));
                    break;
                case 6 when tensor is not null:
                    if (tensor.Dims.Count > 0 && random.Next(3) > 0)
                    {
                        tensor.Dims[random.Next(tensor.Dims.Count)] = RandomLong(random);
                    }
                    else
                    {
                        tensor.Dims.Add(RandomLong(random));
                    }

                    break;
                case 7 when tensor is not null:
                    tensor.DataType = random.Next(20);
                    break;
                case 8 when tensor is not null:
                    tensor.RawData = ByteString.CopyFrom(tensor.RawData.Span[..random.Next(tensor.RawData.Length + 1)]);
                    break;
                case 9 when tensor is not null:
                    tensor.FloatData.Add(random.NextSingle());
                    if (random.Next(2) == 0)
                    {
                        tensor.DataLocation = TensorProto.Types.DataLocation.External;
                    }

                    break;
                case 10:
                    TypeProto.Types.Tensor? type = g.Input.Count > 0 ? g.Input[random.Next(g.Input.Count)].Type?.TensorType : null;
                    if (type?.Shape is { Dim.Count: > 0 } shape)
                    {
                        TensorShapeProto.Types.Dimension dim = shape.Dim[random.Next(shape.Dim.Count)];
                        if (random.Next(2) == 0)
                        {
                            dim.DimValue = RandomLong(random);
                        }
                        else
                        {
                            dim.DimParam = "n";
                        }
                    }
                    else if (type is not null)
                    {
                        type.ElemType = random.Next(20);
                    }

                    break;
                case 11 when g.Output.Count > 0:
                    if (random.Next(2) == 0)
                    {
                        g.Output[random.Next(g.Output.Count)].Name = names[random.Next(names.Length)];
                    }
                    else
                    {
                        g.Output.Add(g.Output[0].Clone());
                    }

                    break;
                case 12:
                    model.OpsetImport[0].Version = random.Next(31);
                    break;
                case 13:
                    model.MetadataProps.Add(new StringStringEntryProto
                    {
                        Key = MetadataKeys[random.Next(MetadataKeys.Length)],
                        Value = random.Next(6) switch
                        {
                            0 => "8",
                            1 => "scale",
                            2 => $"0x{random.Next():X8}",
                            3 => $"percentile:{random.Next(-1, 101)}",
                            4 => Convert.ToBase64String(Enumerable.Range(0, 4 * random.Next(20)).Select(_ => (byte)random.Next(256)).ToArray()),
                            _ => string.Join(",", Enumerable.Range(0, random.Next(10)).Select(_ => random.Next(-2, 3))),
                        },
                    });
                    break;
                case 14:
                    var constant = new NodeProto { OpType = "Constant", Name = "c" + random.Next(100) };
                    constant.Output.Add(names[random.Next(names.Length)]);
                    constant.Attribute.Add(RandomAttribute(random));
                    g.Node.Insert(random.Next(g.Node.Count + 1), constant);
                    break;
                default:
                    if (g.Initializer.Count > 0)
                    {
                        g.Initializer.RemoveAt(random.Next(g.Initializer.Count));
                    }

                    break;
            }
        }

        return model.ToByteArray();
    }

    private static AttributeProto RandomAttribute(Random random)
    {
        var a = new AttributeProto { Name = AttributeNames[random.Next(AttributeNames.Length)], Type = (AttributeProto.Types.AttributeType)random.Next(6), I = RandomLong(random), F = random.NextSingle() };
        a.Ints.AddRange(Enumerable.Range(0, random.Next(4)).Select(_ => RandomLong(random)));
        if (random.Next(3) == 0)
        {
            a.T = Tensors.Float("t", [random.Next(-1, 4)], new float[Math.Max(0, random.Next(-1, 4))]);
        }

        return a;
    }

    private static long RandomLong(Random random) => random.Next(7) switch
    {
        0 => -1,
        1 => 0,
        2 => long.MaxValue,
        3 => int.MaxValue + 1L,
        4 => 1L << 58,
        _ => random.Next(-2, 20),
    };
}
