using System.Collections.Generic;
using EdgeAe.Generators.Model;

namespace EdgeAe.Generators.Emitting;

/// <summary>What kind of declaration a generated name is, for the name checks' messages and their overload rule.</summary>
internal enum GeneratedMemberKind
{
    Constant,
    Field,
    Property,
    Method,
    NestedType,

    /// <summary>A type the generated file declares beside the model (in its namespace), which the model's code names unqualified.</summary>
    TypeBeside,
}

/// <summary>One name the generated code declares for a model.</summary>
internal readonly struct GeneratedMember
{
    public GeneratedMember(string name, GeneratedMemberKind kind)
    {
        Name = name;
        Kind = kind;
    }

    public string Name { get; }

    public GeneratedMemberKind Kind { get; }

    /// <summary>E.g. <c>the nested type 'Int8'</c>, for diagnostic messages.</summary>
    public string Description => Kind switch
    {
        GeneratedMemberKind.Constant => $"the constant '{Name}'",
        GeneratedMemberKind.Field => $"the field '{Name}'",
        GeneratedMemberKind.Property => $"the property '{Name}'",
        GeneratedMemberKind.Method => $"the method '{Name}'",
        GeneratedMemberKind.NestedType => $"the nested type '{Name}'",
        _ => $"the file-local class '{Name}' beside the model",
    };
}

/// <summary>
/// Every name the generated code declares on a model type (constants, fields, properties, methods and nested types,
/// public or private), and the types it declares beside the model, for one flavour: the single list the name checks read
/// (EAE0027 for a model named like one of them, EAE0028 for a member of the declaration that clashes with one). The
/// sections follow the emitters (<see cref="ModelEmitter"/>'s partial files); GeneratedMembersTests walks the generated
/// syntax of many declarations and fails on any declared name missing here.
/// </summary>
/// <remarks>
/// What a weight file holds is not known before it is baked and may change without the declaration changing (an
/// anomaly threshold calibrated into it, a float32 file replaced by its int8 form): a declaration that names a weight file
/// reserves the members of every file it could bake for its flavour.
/// </remarks>
internal static class GeneratedMembers
{
    /// <summary>The names generated for <paramref name="spec"/> in <paramref name="flavor"/>, each once.</summary>
    public static IReadOnlyList<GeneratedMember> Of(TopologySpec spec, TargetFlavor flavor)
    {
        var members = new Members();
        ShapeConstants(members);
        SeedAndBakedConstants(members, spec);
        if (flavor == TargetFlavor.Desktop)
        {
            Desktop(members, spec);
        }
        else
        {
            NanoFloat(members, spec);
            if (spec.BakesWeights && !spec.OnDeviceTraining)
            {
                // The weight file may be the int8 form of the model (an int8 model cannot train on the device, EAE0026).
                NanoInt8(members);
            }

            NanoCodec(members, spec);
            NanoAnomaly(members, spec);
            members.Add("EdgeAeMath", GeneratedMemberKind.TypeBeside);
        }

        return members.List;
    }

    /// <summary>The generated member named <paramref name="name"/>, if there is one.</summary>
    public static bool TryFind(IReadOnlyList<GeneratedMember> members, string name, out GeneratedMember member)
    {
        foreach (GeneratedMember candidate in members)
        {
            if (candidate.Name == name)
            {
                member = candidate;
                return true;
            }
        }

        member = default;
        return false;
    }

    /// <summary>ModelEmitter.WriteShapeConstants: both flavours.</summary>
    private static void ShapeConstants(Members m)
        => m.Constants("InputSize", "CodeSize", "LayerCount", "ParameterCount", "ParameterBufferLength", "ParameterBytes", "InferenceWorkspaceLength");

    /// <summary>ModelEmitter.WriteSeedAndBakedConstants: both flavours.</summary>
    private static void SeedAndBakedConstants(Members m, TopologySpec spec)
    {
        m.Constants("DeclaredSeed", "HasBakedWeights");
        if (spec.BakesWeights)
        {
            m.Constants("BakedWeightsFile", "BakedWeightsCrc32");
        }
    }

    /// <summary>ModelEmitter.Desktop.cs with the codec, anomaly and int8 companion members it writes.</summary>
    private static void Desktop(Members m, TopologySpec spec)
    {
        m.Constants("WorkspaceLength", "MaxBatchSize", "WorkspaceBytes");
        m.Add("Topology", GeneratedMemberKind.Property);
        m.Fields("_parameters", "_gradients", "_workspace", "_transposed");
        m.Add("Parameters", GeneratedMemberKind.Property);
        m.Add("Gradients", GeneratedMemberKind.Property);
        m.Add("FakeQuantization", GeneratedMemberKind.Property);
        m.Methods(
            "InitializeParameters", "Encode", "EncodePortable", "Decode", "EncodeBatch", "DecodeBatch", "EncodeRows", "Reconstruct",
            "Evaluate", "ForwardAndLoss", "AccumulateGradients", "AccumulateBatchGradients", "PrepareBatch", "CreateWorker",
            "AccumulateShardGradients", "Backpropagate", "TrainBatch", "ZeroGradients", "TrainStep", "Ws", "At", "Transposed", "In", "Out");
        if (HasHiddenDecoder(spec) && !spec.TiedWeights)
        {
            // A tied decoder decodes batches sample by sample, without it.
            m.Add("DecodeHiddenRows", GeneratedMemberKind.Method);
        }

        for (int l = 0; l < spec.Layers.Count; l++)
        {
            m.Add("Layer" + l.ToString(System.Globalization.CultureInfo.InvariantCulture), GeneratedMemberKind.NestedType);
        }

        m.Add("SampleLayout", GeneratedMemberKind.NestedType);
        m.Add("BatchLayout", GeneratedMemberKind.NestedType);
        m.Add("Int8", GeneratedMemberKind.NestedType);
        if (spec.BakesWeights)
        {
            m.Add("s_bakedParameters", GeneratedMemberKind.Field);
        }

        // ModelEmitter.WriteDesktopCodec.
        if (spec.HasCodec)
        {
            CodecConstants(m, spec);
            if (spec.BakesWeights || KnownCodeRange(spec))
            {
                m.Fields("s_codeMin", "s_codeMax");
                m.Add("CodeQuantizer", GeneratedMemberKind.Property);
            }

            if (spec.BakesWeights)
            {
                m.Add("CreatePacketCodec", GeneratedMemberKind.Method);
            }
        }

        // ModelEmitter.WriteDesktopAnomaly.
        ThresholdConstants(m, spec);
        m.Methods("Score", "ScoreBatch", "ScorePortable", "ScoreFeatures", "PortableLoss", "ScoreOfLoss");
        if (spec.BakesWeights)
        {
            m.Methods("IsAnomaly", "IsAnomalyPortable");
        }
    }

    /// <summary>ModelEmitter.WriteNanoClassBody: the float32 firmware model.</summary>
    private static void NanoFloat(Members m, TopologySpec spec)
    {
        m.Constants("TrainingWorkspaceLength", "WorkspaceBytes", "OnDeviceTraining", "RamBytes", "BakedDataFlashBytes");
        m.Fields("_parameters", "_workspace", "_code");
        m.Add("Parameters", GeneratedMemberKind.Property);
        m.Methods("InitializeParameters", "Encode", "Decode", "Reconstruct", "Evaluate", "EncodeLayers", "DecodeLayers", "Forward", "LossAgainst", "Check");
        if (spec.BakesWeights)
        {
            m.Add("s_bakedParameters", GeneratedMemberKind.Field);
        }

        if (spec.OnDeviceTraining)
        {
            m.Add("_gradients", GeneratedMemberKind.Field);
            m.Add("Gradients", GeneratedMemberKind.Property);
            m.Methods("AccumulateGradients", "ZeroGradients", "TrainStep", "Backward");
        }

        // The float flavour's per-feature score terms (the int8 model computes them in LossAgainst).
        m.Add("ScoreTerms", GeneratedMemberKind.Method);
    }

    /// <summary>ModelEmitter.WriteNanoInt8ClassBody: an int8 weight file baked into the firmware flavour.</summary>
    private static void NanoInt8(Members m)
    {
        m.Constants("IsInt8", "OnDeviceTraining", "WorkspaceBytes", "RamBytes", "BakedDataFlashBytes");
        m.Fields("s_codes", "s_constants", "_q");
        m.Methods("Encode", "Decode", "Reconstruct", "Evaluate", "Forward", "EncodeLayers", "DecodeLayers", "LossAgainst", "QuantizeInput", "QuantizeCode", "Requantize", "Check");
    }

    /// <summary>ModelEmitter.WriteNanoCodec.</summary>
    private static void NanoCodec(Members m, TopologySpec spec)
    {
        if (!spec.HasCodec)
        {
            return;
        }

        CodecConstants(m, spec);
        if (spec.BakesWeights || KnownCodeRange(spec))
        {
            m.Fields("s_codeMin", "s_codeMax");
        }

        m.Fields("_codeMin", "_codeScale", "_codeRangeSet");
        m.Add("PacketModelId", GeneratedMemberKind.Property);
        m.Methods("SetCodeRange", "EncodePacket", "EncodeForPacket", "WritePacketBody", "CheckPacketArguments", "WritePacketSequence", "WritePacketScore");
    }

    /// <summary>ModelEmitter.WriteNanoAnomaly, with its window and smoother classes.</summary>
    private static void NanoAnomaly(Members m, TopologySpec spec)
    {
        ThresholdConstants(m, spec);
        m.Constants("WindowRamBytes", "RamBytesWithWindow");
        m.Methods("Score", "ScoreFeatures", "ScoreOfLoss");
        if (spec.BakesWeights)
        {
            m.Add("IsAnomaly", GeneratedMemberKind.Method);
        }

        m.Add("AnomalyWindow", GeneratedMemberKind.NestedType);
        m.Add("AnomalySmoother", GeneratedMemberKind.NestedType);
    }

    /// <summary>ModelEmitter.WriteCodecConstants: both flavours.</summary>
    private static void CodecConstants(Members m, TopologySpec spec)
    {
        m.Constants("CodeBits", "PacketLength", "SequencedPacketLength", "ScoredPacketLength");
        if (spec.BakesWeights)
        {
            m.Add("BakedPacketModelId", GeneratedMemberKind.Constant);
        }
    }

    /// <summary>ModelEmitter.WriteThresholdConstants: the threshold's constants exist only when a weight file is baked.</summary>
    private static void ThresholdConstants(Members m, TopologySpec spec)
    {
        m.Add("HasAnomalyThreshold", GeneratedMemberKind.Constant);
        if (spec.BakesWeights)
        {
            m.Constants("AnomalyThreshold", "AnomalyCalibration");
        }
    }

    /// <summary>A sigmoid or tanh code has a known range without a weight file (ModelEmitter.CodeRange).</summary>
    private static bool KnownCodeRange(TopologySpec spec)
        => spec.Layers[spec.CodeLayerIndex].Activation is ActivationKind.Sigmoid or ActivationKind.Tanh;

    private static bool HasHiddenDecoder(TopologySpec spec) => spec.Layers.Count - 1 > spec.CodeLayerIndex + 1;

    /// <summary>The list being built; a name added twice (sections overlap) is kept once.</summary>
    private sealed class Members
    {
        private readonly HashSet<string> _names = new(System.StringComparer.Ordinal);

        public List<GeneratedMember> List { get; } = new();

        public void Add(string name, GeneratedMemberKind kind)
        {
            if (_names.Add(name))
            {
                List.Add(new GeneratedMember(name, kind));
            }
        }

        public void Constants(params string[] names) => AddAll(names, GeneratedMemberKind.Constant);

        public void Fields(params string[] names) => AddAll(names, GeneratedMemberKind.Field);

        public void Methods(params string[] names) => AddAll(names, GeneratedMemberKind.Method);

        private void AddAll(string[] names, GeneratedMemberKind kind)
        {
            foreach (string name in names)
            {
                Add(name, kind);
            }
        }
    }
}
