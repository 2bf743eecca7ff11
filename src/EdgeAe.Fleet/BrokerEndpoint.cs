using System.Globalization;

namespace EdgeAe.Fleet;

/// <summary>
/// Where the MQTT broker listens: <c>mqtt://HOST[:PORT]</c> (TCP, port 1883 by default) or <c>mqtts://HOST[:PORT]</c>
/// (TLS, port 8883 by default). Credentials never appear here: they come from the environment or a file
/// (<see cref="BrokerCredentials"/>), so that they stay out of shell histories and process listings.
/// </summary>
public sealed record BrokerEndpoint(string Host, int Port, bool UseTls)
{
    /// <summary>The MQTT port of a plain TCP listener.</summary>
    public const int DefaultPort = 1883;

    /// <summary>The MQTT port of a TLS listener.</summary>
    public const int DefaultTlsPort = 8883;

    /// <summary>Parses <paramref name="address"/>; throws <see cref="FleetConfigurationException"/> naming what is wrong.</summary>
    public static BrokerEndpoint Parse(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("mqtt" or "mqtts"))
        {
            throw new FleetConfigurationException($"broker address '{address}' is not mqtt://HOST:PORT or mqtts://HOST:PORT");
        }

        if (uri.UserInfo.Length > 0)
        {
            throw new FleetConfigurationException($"broker address '{Redacted(uri)}' carries credentials: put them in {BrokerCredentials.UserVariable}/{BrokerCredentials.PasswordVariable} or a --credentials file, never on the command line");
        }

        if (uri.AbsolutePath is not ("" or "/") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new FleetConfigurationException($"broker address '{address}' has a path or query; expected mqtt://HOST:PORT");
        }

        bool tls = uri.Scheme == "mqtts";
        int port = uri.IsDefaultPort || uri.Port < 0 ? (tls ? DefaultTlsPort : DefaultPort) : uri.Port;
        string host = uri.IdnHost.Trim('[', ']');
        return new BrokerEndpoint(host, port, tls);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{(UseTls ? "mqtts" : "mqtt")}://{(Host.Contains(':', StringComparison.Ordinal) ? "[" + Host + "]" : Host)}:{Port}");

    private static string Redacted(Uri uri) => $"{uri.Scheme}://***@{uri.Authority}";
}
