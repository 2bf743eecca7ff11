using EdgeAe.Baselines;
using EdgeAe.Compression;

namespace EdgeAe.IO;

/// <summary>
/// The optional sections a weight file carries beside the parameters and the normalisation
/// (docs/weight-file-format.md): readers that do not know a section skip it.
/// </summary>
public sealed record WeightFileExtras
{
    /// <summary>No optional section.</summary>
    public static WeightFileExtras None { get; } = new();

    /// <summary>The packet codec's code quantisation (<c>qant</c>), or null.</summary>
    public CodeQuantizer? Codec { get; init; }

    /// <summary>
    /// The PCA baseline with the model's code size fitted on the training data (<c>pcab</c>), or null: what a linear
    /// method reaches on the same data, for <c>edgeae eval</c> to print beside the model's figures.
    /// </summary>
    public Pca? Baseline { get; init; }

    /// <summary>The anomaly threshold and how it was calibrated (<c>anom</c>, docs/anomaly.md), or null.</summary>
    public Anomaly.AnomalyThreshold? Threshold { get; init; }
}
