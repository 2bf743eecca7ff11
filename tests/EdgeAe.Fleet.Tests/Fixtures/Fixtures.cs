using EdgeAe.Compression;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Training;

namespace EdgeAe.Fleet.Tests.Fixtures;

/// <summary>One PostgreSQL server for a test class (a database per test), or none when the package is missing.</summary>
public sealed class PostgresFixture : IDisposable
{
    private readonly Lazy<PostgresServer?> _server = new(() => PostgresServer.IsAvailable ? new PostgresServer() : null);

    /// <summary>The server; skips the calling test when PostgreSQL is not installed.</summary>
    public PostgresServer Server
    {
        get
        {
            Assert.SkipUnless(PostgresServer.IsAvailable, PostgresServer.SkipMessage);
            return _server.Value!;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_server.IsValueCreated)
        {
            _server.Value?.Dispose();
        }
    }
}

/// <summary>A trained digits model saved to a weight file with its 8-bit code quantisation, shared by a test class.</summary>
public sealed class TrainedDigits : IDisposable
{
    public TrainedDigits()
    {
        Folder = Services.TempFolder("edgeae-fleet-model", null);
        Weights = Path.Combine(Folder, "digits.eaw");
        var model = new FleetDigitsAe();
        Dataset digits = BundledData.Digits();
        new Trainer<FleetDigitsAe>(model, new TrainingOptions { Epochs = 15, BatchSize = 32, LearningRate = 3e-3f }).Fit(digits);
        WeightFile.Save(Weights, model, Normalization.None, FleetDigitsAe.CodeQuantizer);
        Data = digits;
    }

    /// <summary>The folder of the weight file (removed at the end).</summary>
    public string Folder { get; }

    /// <summary>The weight file (with a 'qant' section: 8 bits over the sigmoid's [0, 1]).</summary>
    public string Weights { get; }

    /// <summary>The bundled digits, as the model saw them.</summary>
    public Dataset Data { get; }

    /// <summary>A model with the file's parameters and its codec.</summary>
    public (FleetDigitsAe Model, PacketCodec Codec) Load()
    {
        var model = new FleetDigitsAe();
        return (model, PacketCodec.Load(Weights, model));
    }

    /// <summary>Version-2 packets of the first <paramref name="rows"/> digits (sequence 0; the simulator renumbers them).</summary>
    public byte[][] Packets(int rows = 200) => Harness.Packets(Load().Codec, Data, rows);

    /// <inheritdoc/>
    public void Dispose() => Services.Delete(Folder);
}
