using System.Globalization;

namespace EdgeAe.Generators.Helpers;

/// <summary>Every number written into generated code goes through here: invariant culture, round-trip precision.</summary>
internal static class Invariant
{
    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A float literal that round-trips exactly ("G9" is enough for every float32), with NaN/∞ spelled out.</summary>
    public static string Float(float value)
    {
        if (float.IsNaN(value))
        {
            return "float.NaN";
        }

        if (float.IsPositiveInfinity(value))
        {
            return "float.PositiveInfinity";
        }

        if (float.IsNegativeInfinity(value))
        {
            return "float.NegativeInfinity";
        }

        string text = value.ToString("G9", CultureInfo.InvariantCulture);
        if (value == 0f && 1f / value < 0f)
        {
            text = "-0.0";
        }

        return text + "f";
    }
}
