namespace EdgeAe.Generators.Tests;

// Inside the namespace, so the generator's model enums win over the runtime's EdgeAe.LossKind & co.
using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

/// <summary>Weight files built by hand for the emitter alone: every kind a declaration could bake, with zero parameters.</summary>
internal static class HandBuiltWeights
{
    /// <summary>
    /// Every weight file <paramref name="spec"/> could bake in <paramref name="flavor"/>: none, or float32 and (on the
    /// firmware, without on-device training) int8, each with and without an anomaly threshold, and with a code range
    /// when the declaration has a codec. Parameters are zeros: only the shape of the code matters here.
    /// </summary>
    public static IEnumerable<BakedWeights?> Files(TopologySpec spec, TargetFlavor flavor)
    {
        if (!spec.BakesWeights)
        {
            yield return null;
            yield break;
        }

        var plan = ModelPlan.Create(spec);
        var floats = new BakedWeights(spec.Weights!, 0x12345678u, 1000, WeightBaker.Tensors(plan).ToEquatableArray(), new EquatableArray<float>(new float[plan.ParameterBufferLength]));
        if (spec.HasCodec)
        {
            floats = floats with
            {
                CodecBits = spec.CodeBits,
                CodecMin = new EquatableArray<float>(new float[spec.CodeSize]),
                CodecMax = new EquatableArray<float>(Enumerable.Repeat(1f, spec.CodeSize).ToArray()),
            };
        }

        var files = new List<BakedWeights> { floats };
        if (flavor == TargetFlavor.NanoFramework && !spec.OnDeviceTraining)
        {
            EquatableArray<BakedInt8Layer> layers = spec.Layers.Select(l => new BakedInt8Layer(
                Shift: 31, ZScale: 0.1f, ZZeroPoint: 0, ZMin: -128, ZMax: 127, OutputScale: 0.1f, OutputZeroPoint: 0,
                new EquatableArray<int>(new int[l.Width]),
                new EquatableArray<sbyte>(new sbyte[l.Activation is ActivationKind.Sigmoid or ActivationKind.Tanh ? 256 : 0]),
                new EquatableArray<sbyte>(new sbyte[l.InputWidth * l.Width]),
                new EquatableArray<int>(new int[l.Width]))).ToEquatableArray();
            DiagnosticInfo refusal = DiagnosticInfo.Create(DiagnosticDescriptors.Int8WeightsUnsupported, null, spec.Weights!, "desktop");
            files.Add(floats with { Tensors = EquatableArray<BakedTensor>.Empty, Buffer = EquatableArray<float>.Empty, Int8 = new BakedInt8(0.1f, 0, layers, refusal) });
        }

        foreach (BakedWeights file in files)
        {
            yield return file;
            yield return file with { HasAnomalyThreshold = true, AnomalyThreshold = 0.5f, AnomalyMethod = 1, AnomalyParameter = 99, AnomalySamples = 10 };
        }
    }

}
