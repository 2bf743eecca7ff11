namespace EdgeAe.Generators.Tests;

// Inside the namespace, so the generator's model enums win over the runtime's EdgeAe.LossKind & co.
using EdgeAe.Generators.Emitting;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;

/// <summary>
/// The generated text, approved line by line: the emitter alone (from a hand-built topology) and the
/// whole generator (from a declaration), plus the attribute source every consumer gets.
/// </summary>
public sealed class SnapshotTests
{
    [Fact]
    public void Emitter_deep_model_in_a_namespace()
    {
        var spec = new TopologySpec(
            "Demo.Models",
            "HandBuiltAe",
            InputSize: 6,
            LossKind.BinaryCrossEntropy,
            Seed: 7,
            TiedWeights: false,
            MaxBatchSize: 8,
            new[]
            {
                new LayerSpec(0, LayerRole.Encoder, 6, 5, ActivationKind.Relu),
                new LayerSpec(1, LayerRole.Code, 5, 3, ActivationKind.Tanh),
                new LayerSpec(2, LayerRole.Decoder, 3, 5, ActivationKind.Linear),
                new LayerSpec(3, LayerRole.Output, 5, 6, ActivationKind.Sigmoid),
            }.ToEquatableArray());

        Snapshot.Match("Emitter.HandBuiltAe", ModelEmitter.Emit(spec, TargetFlavor.Desktop));
    }

    [Fact]
    public void Emitter_firmware_model_with_on_device_training()
    {
        var spec = new TopologySpec(
            "Device",
            "FirmwareAe",
            InputSize: 12,
            LossKind.BinaryCrossEntropy,
            Seed: 9,
            TiedWeights: false,
            MaxBatchSize: 1,
            new[]
            {
                new LayerSpec(0, LayerRole.Encoder, 12, 10, ActivationKind.Relu),
                new LayerSpec(1, LayerRole.Code, 10, 3, ActivationKind.Sigmoid),
                new LayerSpec(2, LayerRole.Output, 3, 12, ActivationKind.Sigmoid),
            }.ToEquatableArray(),
            OnDeviceTraining: true);

        Snapshot.Match("Emitter.FirmwareAe", ModelEmitter.Emit(spec, TargetFlavor.NanoFramework));
    }

    [Fact]
    public void Emitter_squared_error_model_in_the_global_namespace()
    {
        var spec = new TopologySpec(
            string.Empty,
            "GlobalSquaredErrorAe",
            InputSize: 4,
            LossKind.SquaredError,
            Seed: -3,
            TiedWeights: true,
            MaxBatchSize: 64,
            new[]
            {
                new LayerSpec(0, LayerRole.Code, 4, 2, ActivationKind.Sigmoid),
                new LayerSpec(1, LayerRole.Output, 2, 4, ActivationKind.Linear, TiedTo: 0),
            }.ToEquatableArray());

        Snapshot.Match("Emitter.GlobalSquaredErrorAe", ModelEmitter.Emit(spec, TargetFlavor.Desktop));
    }

    [Fact]
    public void Generator_on_a_declaration()
    {
        GeneratorRun run = GeneratorHarness.Run(
            """
            using EdgeAe;

            namespace Demo;

            [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1)]
            [Encoder(32, Activation.Relu)]
            [Code(16, Activation.Sigmoid)]
            [Decoder(32, Activation.Relu)]
            [Output(Activation.Sigmoid)]
            public partial class DigitsAe;
            """);
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Snapshot.Match("Generator.Demo.DigitsAe", run.ModelSource("Demo.DigitsAe"));
    }

    [Fact]
    public void Attributes_source()
    {
        GeneratorRun run = GeneratorHarness.Run("namespace Empty;");
        string attributes = Assert.Single(run.GeneratedSources, s => s.HintName == AttributeSources.HintName).SourceText.ToString();
        Snapshot.Match("EdgeAe.Attributes", attributes);
    }

    [Fact]
    public void Scrubbing_replaces_only_the_generator_version()
    {
        const string source = "[global::System.CodeDom.Compiler.GeneratedCode(\"EdgeAe.Generators\", \"1.2.3.4\")]\n[GeneratedCode(\"Other\", \"9.9\")]\n";
        Assert.Equal(
            "[global::System.CodeDom.Compiler.GeneratedCode(\"EdgeAe.Generators\", \"<version>\")]\n[GeneratedCode(\"Other\", \"9.9\")]\n",
            Snapshot.Scrub(source));
    }
}
