namespace EdgeAe.Anomaly;

/// <summary>
/// Bad input to anomaly scoring, calibration or detection metrics: too few or constant scores, data of
/// another width, labels that are not 0/1 or of another length, a ROC curve with a single class. The
/// message names the problem (and the row, for labels).
/// </summary>
public sealed class AnomalyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AnomalyException(string message)
        : base(message)
    {
    }
}
