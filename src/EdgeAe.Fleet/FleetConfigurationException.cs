namespace EdgeAe.Fleet;

/// <summary>
/// A setting of <c>serve</c> or <c>simulate</c> that cannot work (a malformed broker or database address, a credentials
/// file in the wrong format, a broker that refuses the connection): the message says what and how to fix it, in one line.
/// </summary>
public sealed class FleetConfigurationException : Exception
{
    /// <summary>A configuration error with its one-line message.</summary>
    public FleetConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>A configuration error with its one-line message and its cause.</summary>
    public FleetConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A configuration error without details.</summary>
    public FleetConfigurationException()
    {
    }
}
