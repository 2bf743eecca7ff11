namespace EdgeAe.Training;

/// <summary>Argument checks shared by the training types; each throws an exception naming the parameter and the value.</summary>
internal static class Guard
{
    /// <summary>Requires a finite value greater than zero.</summary>
    public static void PositiveFinite(float value, string name, string what)
    {
        if (!(value > 0) || !float.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"The {what} must be positive and finite.");
        }
    }

    /// <summary>Requires a finite value greater than or equal to zero.</summary>
    public static void NonNegativeFinite(float value, string name, string what)
    {
        if (!(value >= 0) || !float.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"The {what} must be non-negative and finite.");
        }
    }

    /// <summary>Requires a value in [0, 1).</summary>
    public static void UnitInterval(float value, string name, string what)
    {
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(name, value, $"The {what} must be in [0, 1).");
        }
    }

    /// <summary>Requires two spans to hold exactly <paramref name="expected"/> elements.</summary>
    public static void Length(int actual, int expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"Expected {expected} floats in '{name}' but found {actual}.", name);
        }
    }
}
