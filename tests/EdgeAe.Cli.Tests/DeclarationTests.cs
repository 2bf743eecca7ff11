namespace EdgeAe.Cli.Tests;

/// <summary>train --model with a user declaration compiled in process, the cache, and export.</summary>
public sealed class DeclarationTests : IDisposable
{
    private readonly Tool _tool = new();

    public void Dispose() => _tool.Dispose();

    [Fact]
    public void Train_model_compiles_the_declaration_trains_it_and_a_second_run_hits_the_cache()
    {
        string model = _tool.PathOf("Model.cs");
        File.WriteAllText(model, Declarations.Denoising);
        string weights = _tool.PathOf("run/model.eaw");

        ToolRun first = _tool.Run("train", "--model", model, "--epochs", "3", "--corruption", "masking:0.3", "--validation-split", "0.1", "--out", weights);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("model: DenoisingAe from", first.Output);
        Assert.Contains("(compiled and cached", first.Output);
        Assert.Contains("64→32→12→32→64 (Relu, Sigmoid, Relu, Sigmoid)", first.Output);
        Assert.Contains("corruption masking:0.3", first.Output);
        Assert.Contains("validating on 180", first.Output);
        Assert.Single(Directory.GetFiles(Path.Combine(_tool.CacheFolder), "*.model"));

        // The generated code was trained: the file holds that topology and inspect reads it.
        ToolRun inspect = _tool.Run("inspect", weights);
        Assert.True(inspect.ExitCode == 0, inspect.ToString());
        Assert.Contains("64→32→12→32→64", inspect.Output);

        // Corrupted inputs get their own row: original, corrupted, reconstruction.
        DigitsCommandTests.AssertPng(_tool.PathOf("run/loss.png"), Plots.LossWidth, Plots.LossHeight);
        DigitsCommandTests.AssertPng(_tool.PathOf("run/reconstructions.png"), Plots.ReconstructionsWidth, Plots.ReconstructionsHeight(3));

        ToolRun second = _tool.Run("train", "--model", model, "--epochs", "1", "--out", weights, "--no-plots");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("(cache hit", second.Output);

        // eval and encode with the declaration; the code is 12 wide.
        ToolRun eval = _tool.Run("eval", "--weights", weights, "--model", model);
        Assert.True(eval.ExitCode == 0, eval.ToString());
        string codes = _tool.PathOf("codes.csv");
        ToolRun encode = _tool.Run("encode", "--weights", weights, "--model", model, "--out", codes);
        Assert.True(encode.ExitCode == 0, encode.ToString());
        Assert.All(File.ReadAllLines(codes), r => Assert.Equal(12, r.Split(',').Length));
    }

    [Fact]
    public void A_declared_model_is_quantised_and_its_int8_companion_evaluated()
    {
        string model = _tool.PathOf("Model.cs");
        File.WriteAllText(model, Declarations.Denoising);
        string weights = _tool.PathOf("deep.eaw"), int8 = _tool.PathOf("deep.int8.eaw");
        Assert.Equal(0, _tool.Run("train", "--model", model, "--epochs", "2", "--out", weights, "--no-plots").ExitCode);
        ToolRun quantize = _tool.Run("quantize", "--weights", weights, "--model", model, "--out", int8);
        Assert.True(quantize.ExitCode == 0, quantize.ToString());
        Assert.Contains("L3 output", quantize.Output);

        ToolRun eval = _tool.Run("eval", "--weights", int8, "--model", model, "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());
        Assert.Contains("\"precision\": \"int8\"", eval.Output);
        Assert.Contains("\"mse\":", eval.Output);

        // The built-in model is another topology: the int8 file is refused with both described.
        ToolRun builtIn = _tool.Run("eval", "--weights", int8);
        Assert.Equal(1, builtIn.ExitCode);
        Assert.Contains("different model", builtIn.Error);
    }

    [Fact]
    public void A_corrupt_cache_entry_is_rebuilt()
    {
        string model = _tool.PathOf("Model.cs");
        File.WriteAllText(model, Declarations.Denoising);
        string[] args = ["train", "--model", model, "--epochs", "1", "--out", _tool.PathOf("m.eaw"), "--no-plots"];
        Assert.Equal(0, _tool.Run(args).ExitCode);
        string entry = Assert.Single(Directory.GetFiles(_tool.CacheFolder, "*.model"));
        File.WriteAllText(entry, "not an assembly");

        ToolRun run = _tool.Run(args);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("unusable", run.Error);
        Assert.Contains("(compiled and cached", run.Output);
        Assert.Contains("(cache hit", _tool.Run(args).Output);
    }

    [Fact]
    public void Export_writes_the_generated_source_of_a_declaration()
    {
        string model = _tool.PathOf("Model.cs");
        File.WriteAllText(model, Declarations.Denoising);
        string output = _tool.PathOf("gen/Model.g.cs");
        ToolRun run = _tool.Run("export", "--model", model, "--out", output);
        Assert.True(run.ExitCode == 0, run.ToString());
        string source = File.ReadAllText(output);
        Assert.Contains("partial class DenoisingAe : Ae.IAutoencoder", source);
        Assert.Contains("namespace Demo", source);
    }

    [Fact]
    public void Export_without_a_model_writes_the_built_in_DigitsAe()
    {
        string output = _tool.PathOf("Digits.g.cs");
        ToolRun run = _tool.Run("export", "--target", "desktop", "--out", output);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("partial class DigitsAe : Ae.IAutoencoder", File.ReadAllText(output));
    }

    [Fact]
    public void Export_writes_the_firmware_flavour_with_baked_weights()
    {
        string weights = _tool.PathOf("digits.eaw");
        EdgeAe.IO.WeightFile.Save(weights, new DigitsAe(), EdgeAe.Data.Normalization.ScaleBy(16, 64));
        string output = _tool.PathOf("Firmware.g.cs");
        ToolRun run = _tool.Run("export", "--target", "nanoframework", "--weights", weights, "--out", output);
        Assert.True(run.ExitCode == 0, run.ToString());
        string source = File.ReadAllText(output);
        Assert.Contains("partial class DigitsAe", source);
        Assert.DoesNotContain("IAutoencoder", source);
        Assert.Contains("public void Encode(float[] input, float[] code)", source);
        Assert.Contains("public const bool HasBakedWeights = true;", source);
    }

    [Fact]
    public void Export_weights_replaces_the_file_the_declaration_names()
    {
        // A firmware project's declaration names its weight file (Weights = "digits.eaw") as an item of that project, not
        // beside the declaration. export --weights failed on that absent file (EAE0017) before looking at --weights, and
        // on a stale or corrupt file of that name beside the declaration (EAE0018, EAE0019).
        Directory.CreateDirectory(_tool.PathOf("firmware"));
        string model = _tool.PathOf("firmware/Models.cs");
        File.WriteAllText(model, """
            namespace Device;
            [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1, Weights = "digits.eaw")]
            [Code(16, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class DigitsAe;
            """);
        string weights = _tool.PathOf("trained.eaw");
        EdgeAe.IO.WeightFile.Save(weights, new DigitsAe(), EdgeAe.Data.Normalization.ScaleBy(16, 64));
        uint crc = EdgeAe.IO.WeightFile.Read(weights).Checksum;

        foreach (byte[]? beside in new[] { null, "not a weight file"u8.ToArray() })
        {
            if (beside is not null)
            {
                File.WriteAllBytes(_tool.PathOf("firmware/digits.eaw"), beside);
            }

            string output = _tool.PathOf("firmware/Models.g.cs");
            ToolRun run = _tool.Run("export", "--model", model, "--target", "nanoframework", "--weights", weights, "--out", output);
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains($"public const uint BakedWeightsCrc32 = 0x{crc:X8}u;", File.ReadAllText(output));
        }

        // Without --weights the declaration's own file is what is baked, and a bad one is still refused.
        ToolRun own = _tool.Run("export", "--model", model, "--target", "nanoframework", "--out", _tool.PathOf("firmware/Own.g.cs"));
        Assert.Equal(1, own.ExitCode);
        Assert.Contains("error EAE0018", own.Error);
    }

    [Fact]
    public void Export_rejects_an_unknown_target_and_a_mismatched_weight_file()
    {
        ToolRun unknown = _tool.Run("export", "--target", "arduino", "--out", _tool.PathOf("x.g.cs"));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("expected one of: desktop, nanoframework", unknown.Error);
        Assert.False(File.Exists(_tool.PathOf("x.g.cs")));

        string model = _tool.PathOf("Model.cs");
        File.WriteAllText(model, Declarations.Denoising);
        string weights = _tool.PathOf("digits.eaw");
        EdgeAe.IO.WeightFile.Save(weights, new DigitsAe(), EdgeAe.Data.Normalization.None);
        ToolRun mismatch = _tool.Run("export", "--model", model, "--weights", weights, "--out", _tool.PathOf("y.g.cs"));
        Assert.Equal(1, mismatch.ExitCode);
        Assert.Contains("the file was saved for a different model", mismatch.Error);
        Assert.False(File.Exists(_tool.PathOf("y.g.cs")));

        // The message names the option the file came from, not a Weights = "…" the declaration does not have.
        Assert.StartsWith($"edgeae: --weights {weights}: the file was saved for a different model than", mismatch.Error);
        Assert.DoesNotContain("[Autoencoder] Weights", mismatch.Error);
    }

    [Fact]
    public void Several_autoencoder_classes_are_listed()
    {
        string model = _tool.PathOf("Two.cs");
        File.WriteAllText(model, Declarations.Two);
        ToolRun run = _tool.Run("train", "--model", model);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("declares 2 [Autoencoder] classes (First, Second)", run.Error);
    }
}
