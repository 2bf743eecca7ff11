using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Formatter;

namespace EdgeAe.Fleet;

/// <summary>
/// How <c>serve</c> and <c>simulate</c> reach the broker: its address, credentials (environment or file), and for
/// <c>mqtts://</c> the certificate authority to trust (default: the system's) and an optional client certificate.
/// Always MQTT 5 (shared subscriptions, session expiry, receive maximum).
/// </summary>
public sealed record BrokerOptions
{
    /// <summary>The broker's address.</summary>
    public required BrokerEndpoint Endpoint { get; init; }

    /// <summary>User name and password; null for an anonymous connection.</summary>
    public BrokerCredentials? Credentials { get; init; }

    /// <summary>A PEM file of the certificate authority that signed the broker's certificate (mqtts:// only); null: the system's trust store.</summary>
    public string? CaFile { get; init; }

    /// <summary>A PEM client certificate for brokers that require one (mqtts:// only), with <see cref="ClientKeyFile"/>.</summary>
    public string? ClientCertificateFile { get; init; }

    /// <summary>The PEM private key of <see cref="ClientCertificateFile"/>.</summary>
    public string? ClientKeyFile { get; init; }

    /// <summary>Seconds between keep-alive pings.</summary>
    public int KeepAliveSeconds { get; init; } = 30;

    /// <summary>
    /// Checks the TLS options fit together and the files exist; throws <see cref="FleetConfigurationException"/>
    /// otherwise.
    /// </summary>
    public void Validate()
    {
        CheckTlsOptions(Endpoint, CaFile, ClientCertificateFile, ClientKeyFile);
        foreach (string? file in new[] { CaFile, ClientCertificateFile, ClientKeyFile })
        {
            if (file is not null && !File.Exists(file))
            {
                throw new FleetConfigurationException($"file not found: {file}");
            }
        }
    }

    /// <summary>
    /// Checks that TLS files are named only for an <c>mqtts://</c> address and that a client certificate comes with its
    /// key — the settings alone, before any file is looked at; throws <see cref="FleetConfigurationException"/> otherwise.
    /// </summary>
    /// <param name="endpoint">The broker's address.</param>
    /// <param name="caFile">The certificate authority's PEM file, or null.</param>
    /// <param name="clientCertificateFile">The client certificate's PEM file, or null.</param>
    /// <param name="clientKeyFile">The client key's PEM file, or null.</param>
    public static void CheckTlsOptions(BrokerEndpoint endpoint, string? caFile, string? clientCertificateFile, string? clientKeyFile)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!endpoint.UseTls && (caFile ?? clientCertificateFile ?? clientKeyFile) is not null)
        {
            throw new FleetConfigurationException($"--ca-file, --client-cert and --client-key need a TLS broker address (mqtts://{endpoint.Host}:{BrokerEndpoint.DefaultTlsPort})");
        }

        if ((clientCertificateFile is null) != (clientKeyFile is null))
        {
            throw new FleetConfigurationException("--client-cert and --client-key go together");
        }
    }

    /// <summary>
    /// The MQTTnet options of one connection: <paramref name="clientId"/>; a persistent session (clean start off, kept
    /// <paramref name="sessionExpirySeconds"/> after a disconnect) when that is above 0; at most
    /// <paramref name="receiveMaximum"/> unacknowledged QoS 1 messages in flight towards this client.
    /// </summary>
    /// <param name="clientId">The client identifier (the session's key at the broker).</param>
    /// <param name="sessionExpirySeconds">How long the broker keeps the session after a disconnect; 0 for a clean session.</param>
    /// <param name="receiveMaximum">Unacknowledged QoS 1 messages the broker may send ahead.</param>
    /// <param name="coalesceWrites">
    /// Leaves Nagle's algorithm on (no TCP_NODELAY) so that the kernel joins small writes sent while earlier ones are
    /// unacknowledged into one segment. For a consumer whose only traffic is acknowledgements: MQTTnet writes each PUBACK
    /// on its own, and with TCP_NODELAY each became a segment the broker received and processed alone. Publishers keep
    /// TCP_NODELAY: with Nagle a PUBLISH can wait for the broker's delayed ACK (tens of milliseconds).
    /// </param>
    public MqttClientOptions ClientOptions(string clientId, uint sessionExpirySeconds, ushort receiveMaximum, bool coalesceWrites = false)
    {
        Validate();
        MqttClientOptionsBuilder builder = new MqttClientOptionsBuilder()
            .WithTcpServer(Endpoint.Host, Endpoint.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(clientId)
            .WithCleanStart(sessionExpirySeconds == 0)
            .WithSessionExpiryInterval(sessionExpirySeconds)
            .WithReceiveMaximum(receiveMaximum)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromSeconds(10));
        if (Credentials is not null)
        {
            builder = builder.WithCredentials(Credentials.UserName, Credentials.Password);
        }

        if (Endpoint.UseTls)
        {
            builder = builder.WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost(Endpoint.Host);
                if (CaFile is not null)
                {
                    tls.WithTrustChain(LoadCertificates(CaFile));
                }

                if (ClientCertificateFile is not null)
                {
                    tls.WithClientCertificates(new X509Certificate2Collection(LoadClientCertificate(ClientCertificateFile, ClientKeyFile!)));
                }
            });
        }

        MqttClientOptions options = builder.Build();
        if (coalesceWrites && options.ChannelOptions is MqttClientTcpOptions tcp)
        {
            tcp.NoDelay = false;
        }

        return options;
    }

    private static X509Certificate2Collection LoadCertificates(string path)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPemFile(path);
        }
        catch (CryptographicException e)
        {
            throw new FleetConfigurationException($"{path} is not a PEM certificate file: {e.Message}", e);
        }

        return collection.Count > 0 ? collection : throw new FleetConfigurationException($"{path} holds no PEM certificate");
    }

    private static X509Certificate2 LoadClientCertificate(string certificate, string key)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificate, key);

            // SslStream on Linux wants the key in a form it can export to OpenSSL: round-trip through PKCS#12.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (CryptographicException e)
        {
            throw new FleetConfigurationException($"cannot load the client certificate {certificate} with key {key}: {e.Message}", e);
        }
    }
}
