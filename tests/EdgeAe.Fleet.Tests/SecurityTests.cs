using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeAe.Compression;
using EdgeAe.Fleet.Tests.Fixtures;

namespace EdgeAe.Fleet.Tests;

/// <summary>TLS to the broker (a private CA, optionally a client certificate) and broker accounts, against a real Mosquitto.</summary>
public sealed class SecurityTests(TrainedDigits digits) : IClassFixture<TrainedDigits>, IDisposable
{
    private readonly string _folder = Services.TempFolder("edgeae-security", null);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Services.Delete(_folder);
    }

    [Fact]
    public async Task Serve_and_simulate_talk_TLS_to_a_broker_with_a_private_CA_and_client_certificates()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        (string caPem, string serverPem, string serverKey, string clientPem, string clientKey) = Certificates();
        int tls = Services.FreePort(), mutual = Services.FreePort();
        string config = string.Create(CultureInfo.InvariantCulture, $"""
            listener {tls} 127.0.0.1
            cafile {_folder}/ca.pem
            certfile {_folder}/server.pem
            keyfile {_folder}/server.key
            listener {mutual} 127.0.0.1
            cafile {_folder}/ca.pem
            certfile {_folder}/server.pem
            keyfile {_folder}/server.key
            require_certificate true

            """);
        File.WriteAllText(Path.Combine(_folder, "ca.pem"), caPem);
        File.WriteAllText(Path.Combine(_folder, "server.pem"), serverPem);
        File.WriteAllText(Path.Combine(_folder, "server.key"), serverKey);
        File.WriteAllText(Path.Combine(_folder, "client.pem"), clientPem);
        File.WriteAllText(Path.Combine(_folder, "client.key"), clientKey);
        if (Services.IsRoot)
        {
            Services.Run("chmod", ["-R", "a+rX", _folder]); // the broker runs as the mosquitto user
        }

        using var broker = new MosquittoBroker(config);
        broker.WaitForListener(tls);
        broker.WaitForListener(mutual);
        string db = Path.Combine(_folder, "tls.db");
        (_, PacketCodec codec) = digits.Load();
        BrokerOptions secure = new() { Endpoint = BrokerEndpoint.Parse($"mqtts://127.0.0.1:{tls}"), CaFile = Path.Combine(_folder, "ca.pem") };
        await using ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-tls") with { Broker = secure }, codec, db);
        var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 3, count: 20) with
        {
            Broker = secure with
            {
                Endpoint = BrokerEndpoint.Parse($"mqtts://127.0.0.1:{mutual}"),
                ClientCertificateFile = Path.Combine(_folder, "client.pem"),
                ClientKeyFile = Path.Combine(_folder, "client.key"),
            },
        }, digits.Packets());
        Assert.Equal(60, (await simulator.RunAsync(TestContext.Current.CancellationToken)).Published);
        await Harness.EventuallyAsync(() => serve.Server.Counters.Inserted >= 60, TimeSpan.FromSeconds(30), () => serve.Log);
        await serve.StopAsync();
        Harness.AssertExactlyOnce(Harness.Keys(db), Enumerable.Range(0, 3).Select(simulator.DeviceId), 20);

        // Without the CA the broker's certificate is not trusted; without a client certificate the mutual listener refuses.
        var untrusted = new FleetSimulator(Harness.Simulate(broker.Address, 1, 1) with { Broker = secure with { CaFile = null } }, digits.Packets(1));
        var e = await Assert.ThrowsAsync<FleetConfigurationException>(() => untrusted.RunAsync(TestContext.Current.CancellationToken));
        Assert.StartsWith($"cannot connect to the broker at mqtts://127.0.0.1:{tls}:", e.Message);
        var anonymous = new FleetSimulator(Harness.Simulate(broker.Address, 1, 1) with { Broker = secure with { Endpoint = BrokerEndpoint.Parse($"mqtts://127.0.0.1:{mutual}") } }, digits.Packets(1));
        e = await Assert.ThrowsAsync<FleetConfigurationException>(() => anonymous.RunAsync(TestContext.Current.CancellationToken));
        Assert.StartsWith($"cannot connect to the broker at mqtts://127.0.0.1:{mutual}:", e.Message);
    }

    [Fact]
    public async Task A_broker_with_accounts_refuses_anonymous_clients_with_a_clear_error_and_accepts_file_credentials()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        string passwords = Path.Combine(_folder, "passwords");
        Services.Run("mosquitto_passwd", ["-b", "-c", passwords, "fleet", "correct horse"]);
        if (Services.IsRoot)
        {
            Services.Run("chmod", ["-R", "a+rX", _folder]);
        }

        using var broker = new MosquittoBroker($"allow_anonymous false\npassword_file {passwords}\n");
        string db = Path.Combine(_folder, "auth.db");
        (_, PacketCodec codec) = digits.Load();
        var e = await Assert.ThrowsAsync<FleetConfigurationException>(() => ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-anonymous"), codec, db));
        Assert.Equal($"{broker.Address}: the broker refused the connection: NotAuthorized; credentials come from nowhere (set EDGEAE_MQTT_USERNAME/EDGEAE_MQTT_PASSWORD or --credentials FILE)", e.Message);

        string file = Path.Combine(_folder, "broker.credentials");
        File.WriteAllText(file, "username=fleet\npassword=wrong\n");
        Services.Chmod(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        BrokerOptions wrong = new() { Endpoint = BrokerEndpoint.Parse(broker.Address), Credentials = BrokerCredentials.FromFile(file) };
        e = await Assert.ThrowsAsync<FleetConfigurationException>(() => ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-wrong") with { Broker = wrong }, codec, db));
        Assert.Contains($"credentials come from {file}", e.Message);
        Assert.DoesNotContain("wrong", e.Message.Replace(file, "", StringComparison.Ordinal));

        File.WriteAllText(file, "username=fleet\npassword=correct horse\n");
        BrokerOptions right = wrong with { Credentials = BrokerCredentials.FromFile(file) };
        await using ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-account") with { Broker = right }, codec, db);
        var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 2, count: 10) with { Broker = right }, digits.Packets());
        Assert.Equal(20, (await simulator.RunAsync(TestContext.Current.CancellationToken)).Published);
        await Harness.EventuallyAsync(() => serve.Server.Counters.Inserted >= 20, TimeSpan.FromSeconds(30), () => serve.Log);
    }

    /// <summary>A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM texts.</summary>
    private static (string Ca, string Server, string ServerKey, string Client, string ClientKey) Certificates()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=EdgeAe test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        // One instant for every certificate: the issued ones must not outlive the CA, and two readings of the clock a
        // second apart made the server's end one second later than the CA's (a refusal by CertificateRequest.Create).
        DateTimeOffset now = DateTimeOffset.UtcNow;
        DateTimeOffset notBefore = now.AddMinutes(-5), notAfter = now.AddDays(1);
        using X509Certificate2 ca = caRequest.CreateSelfSigned(notBefore, notAfter);

        (string Cert, string Key) Issue(string subject, bool server, int serial)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
            if (server)
            {
                var names = new SubjectAlternativeNameBuilder();
                names.AddIpAddress(IPAddress.Loopback);
                names.AddDnsName("localhost");
                request.CertificateExtensions.Add(names.Build());
            }

            using X509Certificate2 issued = request.Create(ca, notBefore, notAfter.AddMinutes(-1), [(byte)serial, 1, 2, 3]);
            return (issued.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
        }

        (string serverCert, string serverKey) = Issue("CN=127.0.0.1", server: true, 10);
        (string clientCert, string clientKey) = Issue("CN=edgeae-gateway", server: false, 11);
        return (ca.ExportCertificatePem(), serverCert, serverKey, clientCert, clientKey);
    }
}
