using EdgeAe.Fleet.Storage;
using EdgeAe.Fleet.Tests.Fixtures;
using Npgsql;

namespace EdgeAe.Fleet.Tests;

/// <summary>Addresses, credentials and topics: each bad value is one clear error naming it.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("mqtt://127.0.0.1:1884")]
    [InlineData("mqtts://broker.local")]
    public void Only_a_consumer_connection_leaves_Nagle_on(string address)
    {
        var broker = new BrokerOptions { Endpoint = BrokerEndpoint.Parse(address) };

        // serve writes nothing but PUBACKs: the kernel may join them; a publisher's PUBLISH must not wait for an ACK.
        var consumer = Assert.IsType<MQTTnet.MqttClientTcpOptions>(broker.ClientOptions("serve", 600, 1000, coalesceWrites: true).ChannelOptions);
        var publisher = Assert.IsType<MQTTnet.MqttClientTcpOptions>(broker.ClientOptions("device", 0, 16).ChannelOptions);
        Assert.False(consumer.NoDelay);
        Assert.True(publisher.NoDelay);
    }

    [Theory]
    [InlineData("mqtt://127.0.0.1:1884", "127.0.0.1", 1884, false, "mqtt://127.0.0.1:1884")]
    [InlineData("mqtt://broker.local", "broker.local", 1883, false, "mqtt://broker.local:1883")]
    [InlineData("mqtts://broker.local", "broker.local", 8883, true, "mqtts://broker.local:8883")]
    [InlineData("mqtts://[::1]:9000", "::1", 9000, true, "mqtts://[::1]:9000")]
    public void Broker_addresses_parse_with_default_ports(string address, string host, int port, bool tls, string canonical)
    {
        BrokerEndpoint endpoint = BrokerEndpoint.Parse(address);
        Assert.Equal(new BrokerEndpoint(host, port, tls), endpoint);
        Assert.Equal(canonical, endpoint.ToString());
    }

    [Theory]
    [InlineData("tcp://127.0.0.1:1883", "is not mqtt://HOST:PORT or mqtts://HOST:PORT")]
    [InlineData("127.0.0.1:1883", "is not mqtt://HOST:PORT")]
    [InlineData("mqtt://user:secret@127.0.0.1:1883", "carries credentials")]
    [InlineData("mqtt://127.0.0.1:1883/topic", "has a path or query")]
    public void Bad_broker_addresses_are_refused_without_echoing_a_password(string address, string message)
    {
        var e = Assert.Throws<FleetConfigurationException>(() => BrokerEndpoint.Parse(address));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain("secret", e.Message);
    }

    [Fact]
    public void Credentials_come_from_the_environment_or_a_private_file_never_elsewhere()
    {
        var environment = new Dictionary<string, string?> { [BrokerCredentials.UserVariable] = "fleet", [BrokerCredentials.PasswordVariable] = "pw" };
        BrokerCredentials? fromEnvironment = BrokerCredentials.Resolve(null, k => environment.GetValueOrDefault(k));
        Assert.Equal(("fleet", "pw"), (fromEnvironment!.UserName, fromEnvironment.Password));
        Assert.DoesNotContain("pw", fromEnvironment.Source);
        Assert.Null(BrokerCredentials.Resolve(null, _ => null));
        var e = Assert.Throws<FleetConfigurationException>(() => BrokerCredentials.Resolve(null, k => k == BrokerCredentials.PasswordVariable ? "pw" : null));
        Assert.Contains("EDGEAE_MQTT_USERNAME is not", e.Message);

        string folder = Services.TempFolder("edgeae-credentials", null);
        try
        {
            string file = Path.Combine(folder, "broker.conf");
            File.WriteAllText(file, "# broker account\nusername = gateway-7\npassword=s3cret=x\n");
            Services.Chmod(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            BrokerCredentials fromFile = BrokerCredentials.Resolve(file, k => environment.GetValueOrDefault(k))!;
            Assert.Equal(("gateway-7", "s3cret=x"), (fromFile.UserName, fromFile.Password)); // the file wins over the environment

            Services.Chmod(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            e = Assert.Throws<FleetConfigurationException>(() => BrokerCredentials.FromFile(file));
            Assert.Equal($"credentials file {file} can be read or written by other users; restrict it with chmod 600 {file}", e.Message);

            File.WriteAllText(file, "user=x\n");
            Services.Chmod(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            e = Assert.Throws<FleetConfigurationException>(() => BrokerCredentials.FromFile(file));
            Assert.Equal($"credentials file {file}, line 1: expected username=… or password=… (found 'user')", e.Message);
            Assert.Contains("not found", Assert.Throws<FleetConfigurationException>(() => BrokerCredentials.FromFile(file + ".missing")).Message);
        }
        finally
        {
            Services.Delete(folder);
        }
    }

    [Fact]
    public void A_topic_names_the_device_its_levels_name_for_every_filter_shape()
    {
        // DeviceOf matches the filter's text around its '+' level; the reference compares level by level.
        string[] filters = ["+", "devices/+/ae", "+/ae", "devices/+", "a//+/b/", "/+", "x/y/z/+/w"];
        string[] ids = ["pump-17", "", "a/b", "ae", "devices", "+", "é", new string('x', DeviceTopics.MaxDeviceIdLength), new string('x', DeviceTopics.MaxDeviceIdLength + 1)];
        foreach (string filter in filters)
        {
            DeviceTopics topics = DeviceTopics.Parse(filter);
            Assert.Equal(filter.Replace("+", "pump-17", StringComparison.Ordinal), topics.TopicOf("pump-17"));
            var candidates = new List<string> { "", "/", "devices", "devices/ae", "devices/pump/ae/extra", "extra/devices/pump/ae" };
            foreach (string id in ids)
            {
                string topic = filter.Replace("+", id, StringComparison.Ordinal);
                candidates.AddRange([topic, topic + "/", "/" + topic, topic[..^Math.Min(1, topic.Length)], "z" + topic]);
            }

            foreach (string topic in candidates)
            {
                Assert.True(ByLevels(filter, topic) == topics.DeviceOf(topic), $"filter '{filter}', topic '{topic}': expected '{ByLevels(filter, topic)}', got '{topics.DeviceOf(topic)}'");
            }
        }

        static string? ByLevels(string filter, string topic)
        {
            string[] want = filter.Split('/'), have = topic.Split('/');
            int plus = Array.IndexOf(want, "+");
            bool match = want.Length == have.Length && want.Select((level, i) => i == plus || level == have[i]).All(m => m);
            return match && have[plus].Length is > 0 and <= DeviceTopics.MaxDeviceIdLength ? have[plus] : null;
        }
    }

    [Fact]
    public void Topic_filters_name_one_device_level()
    {
        DeviceTopics topics = DeviceTopics.Parse("devices/+/ae");
        Assert.Equal("pump-17", topics.DeviceOf("devices/pump-17/ae"));
        Assert.Equal("devices/pump-17/ae", topics.TopicOf("pump-17"));
        Assert.Null(topics.DeviceOf("devices/pump-17/other"));
        Assert.Null(topics.DeviceOf("devices/pump-17/ae/extra"));
        Assert.Null(topics.DeviceOf("devices//ae"));
        Assert.Null(topics.DeviceOf("devices/" + new string('x', DeviceTopics.MaxDeviceIdLength + 1) + "/ae"));
        Assert.Equal("a", DeviceTopics.Parse("+").DeviceOf("a"));
        foreach (string bad in new[] { "devices/#", "devices/ae", "devices/+/+/ae", "devices/x+/ae", "", "$share/g/devices/+/ae" })
        {
            Assert.Contains("exactly one '+' level", Assert.Throws<FleetConfigurationException>(() => DeviceTopics.Parse(bad)).Message);
        }

        Assert.Throws<ArgumentException>(() => topics.TopicOf("a/b"));
    }

    [Fact]
    public void PostgreSQL_urls_become_connection_settings_and_never_carry_a_password()
    {
        NpgsqlConnectionStringBuilder settings = PostgresFleetStore.ConnectionSettings("postgres://fleet@db.local:6543/telemetry?sslmode=require", k => k == "PGPASSWORD" ? "pw" : null);
        Assert.Equal(("db.local", 6543, "telemetry", "fleet", "pw", SslMode.Require), (settings.Host, settings.Port, settings.Database, settings.Username, settings.Password, settings.SslMode));
        Assert.Equal(5432, PostgresFleetStore.ConnectionSettings("postgresql://fleet@db/x", _ => null).Port);
        Assert.True(FleetStore.IsPostgres("postgres://a@b/c"));
        Assert.False(FleetStore.IsPostgres("fleet.db"));
        Assert.Contains("carries a password", Assert.Throws<FleetConfigurationException>(() => PostgresFleetStore.ConnectionSettings("postgres://fleet:pw@db/x", _ => null)).Message);
        Assert.Contains("names no database", Assert.Throws<FleetConfigurationException>(() => PostgresFleetStore.ConnectionSettings("postgres://fleet@db", _ => null)).Message);
        Assert.Contains("sslmode 'always'", Assert.Throws<FleetConfigurationException>(() => PostgresFleetStore.ConnectionSettings("postgres://fleet@db/x?sslmode=always", _ => null)).Message);
    }

    [Fact]
    public void Tls_files_need_a_tls_address()
    {
        var options = new BrokerOptions { Endpoint = BrokerEndpoint.Parse("mqtt://127.0.0.1:1883"), CaFile = "/nonexistent/ca.pem" };
        Assert.Contains("need a TLS broker address (mqtts://127.0.0.1:8883)", Assert.Throws<FleetConfigurationException>(options.Validate).Message);
        options = options with { Endpoint = BrokerEndpoint.Parse("mqtts://127.0.0.1") };
        Assert.Equal("file not found: /nonexistent/ca.pem", Assert.Throws<FleetConfigurationException>(options.Validate).Message);
        Assert.Equal("--client-cert and --client-key go together", Assert.Throws<FleetConfigurationException>((options with { CaFile = null, ClientCertificateFile = "c.pem" }).Validate).Message);
    }
}
