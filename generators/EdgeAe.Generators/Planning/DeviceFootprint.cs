using EdgeAe.Generators.Model;

namespace EdgeAe.Generators.Planning;

/// <summary>The RAM and flash a firmware (nanoFramework) model needs, from its plan.</summary>
internal readonly struct DeviceFootprint
{
    /// <summary>Bytes a nanoFramework heap block adds per array (header and length), for the RAM estimate.</summary>
    public const int ArrayOverheadBytes = 12;

    private DeviceFootprint(int ramBytes, int bakedDataBytes)
    {
        RamBytes = ramBytes;
        BakedDataBytes = bakedDataBytes;
    }

    /// <summary>Every array of the model, headers included.</summary>
    public int RamBytes { get; }

    /// <summary>Flash the baked parameter data takes (0 without baked weights).</summary>
    public int BakedDataBytes { get; }

    /// <param name="plan">The model's plan.</param>
    /// <param name="baked">True when the parameters are baked into the code.</param>
    /// <param name="staticCodeRange">True when the packet codec starts from a static code range (two more arrays).</param>
    public static DeviceFootprint Of(ModelPlan plan, bool baked, bool staticCodeRange)
    {
        bool training = plan.Topology.OnDeviceTraining;
        int parameters = plan.ParameterBufferLength * 4 + ArrayOverheadBytes;
        int ram = parameters; // own array, or the static baked array used in place
        if (baked && training)
        {
            ram += parameters; // the static baked array stays in RAM beside the model's copy
        }

        if (training)
        {
            ram += parameters; // gradients
        }

        ram += (training ? plan.WorkspaceLength : plan.InferenceWorkspaceLength) * 4 + ArrayOverheadBytes;
        ram += plan.Topology.CodeSize * 4 + ArrayOverheadBytes;
        ram += CodecBytes(plan.Topology, staticCodeRange);
        return new DeviceFootprint(ram, baked ? plan.ParameterBufferLength * 4 : 0);
    }

    /// <summary>The packet codec's arrays (none without <c>CodeBits</c>): its per-value minimum and scale, and the static range it starts from.</summary>
    private static int CodecBytes(TopologySpec topology, bool staticCodeRange)
    {
        if (!topology.HasCodec)
        {
            return 0;
        }

        int array = (topology.CodeSize * 4) + ArrayOverheadBytes;
        return staticCodeRange ? 4 * array : 2 * array;
    }

    /// <summary>RAM of one anomaly window's ring: two copies of an input, with the array's heap-block overhead.</summary>
    public static int WindowBytes(ModelPlan plan) => (2 * plan.Topology.InputSize * 4) + ArrayOverheadBytes;

    /// <summary>
    /// An int8 firmware model: its three arrays (codes, constants, workspace) and the packet codec's, if any. The baked
    /// codes and constants are used in place (one RAM copy each, made at type initialisation); nothing else is allocated.
    /// </summary>
    public static DeviceFootprint OfInt8(FirmwareInt8Plan plan, TopologySpec topology, bool staticCodeRange)
    {
        int baked = plan.CodeLength + (4 * plan.ConstantLength);
        int codec = CodecBytes(topology, staticCodeRange);
        return new DeviceFootprint(baked + plan.WorkspaceLength + (3 * ArrayOverheadBytes) + codec, baked);
    }
}
