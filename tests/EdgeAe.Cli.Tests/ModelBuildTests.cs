namespace EdgeAe.Cli.Tests;

/// <summary>
/// Issue 13 points 15, 17, 18 and the declaration messages of 16. In process (<see cref="Tool"/>): each build of a
/// declaration JITs Roslyn, which a fresh process would pay again for every case.
/// </summary>
public sealed class ModelBuildTests : IDisposable
{
    private readonly Tool _tool = new();

    public void Dispose() => _tool.Dispose();

    [Fact]
    public void An_unknown_activation_reports_only_the_compilers_error()
    {
        // Point 16: [Code(16, Activation.Softmax)] also reported "EAE0002 width must be positive; found 0".
        string model = _tool.PathOf("Soft.cs");
        File.WriteAllText(model, "[Autoencoder(Input = 64)]\n[Code(16, Activation.Softmax)]\n[Output(Activation.Sigmoid)]\npublic partial class SoftAe;\n");
        ToolRun run = _tool.Run("train", "--model", model, "--no-plots");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("does not compile (1 error)", run.Error);
        Assert.Contains("error CS0117: 'Activation' does not contain a definition for 'Softmax'", run.Error);
        Assert.DoesNotContain("EAE", run.Error);
    }

    [Fact]
    public void A_weights_declaration_names_the_file_the_command_line_looks_for_and_bakes_it_when_it_is_there()
    {
        // Point 16: EAE0017's fix text named a project file the command line user does not have.
        string model = _tool.PathOf("Baked.cs");
        File.WriteAllText(model, "[Autoencoder(Input = 64, Weights = \"digits.eaw\")]\n[Code(16, Activation.Sigmoid)]\n[Output(Activation.Sigmoid)]\npublic partial class BakedAe;\n");
        ToolRun missing = _tool.Run("export", "--model", model, "--out", _tool.PathOf("x.g.cs"));
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains($"error EAE0017: [Autoencoder] Weights = \"digits.eaw\": no file 'digits.eaw' in {_tool.Folder}; the command line bakes the weight file it finds beside the declaration", missing.Error);
        Assert.DoesNotContain("project file", missing.Error);

        Assert.Equal(0, _tool.Run("train", "--epochs", "1", "--no-plots", "--out", _tool.PathOf("digits.eaw")).ExitCode);
        ToolRun baked = _tool.Run("export", "--model", model, "--out", _tool.PathOf("x.g.cs"));
        Assert.True(baked.ExitCode == 0, baked.ToString());
        ToolRun eval = _tool.Run("eval", "--model", model, "--weights", _tool.PathOf("digits.eaw"));
        Assert.True(eval.ExitCode == 0, eval.ToString());
    }

    [Fact]
    public void An_exception_from_the_declarations_own_code_is_reported_with_its_message()
    {
        // Point 17: "Exception has been thrown by the target of an invocation".
        string model = _tool.PathOf("Throw.cs");
        File.WriteAllText(model, """
            [Autoencoder(Input = 64)]
            [Code(16, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class ThrowAe { static ThrowAe() => throw new InvalidOperationException("sensor table missing"); }
            """);
        ToolRun run = _tool.Run("train", "--model", model, "--no-plots");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("edgeae: Throw.cs: the code of ThrowAe threw InvalidOperationException: sensor table missing", run.Error);
        Assert.DoesNotContain("target of an invocation", run.Error);
        Assert.DoesNotContain("unusable", run.Error);
    }

    [Fact]
    public void A_cache_entry_copied_over_another_is_rebuilt_not_used()
    {
        // Point 18: the cache trusted file names, so an entry copied over another loaded the wrong model.
        string sensor = _tool.PathOf("Sensor.cs");
        string denoising = _tool.PathOf("Denoising.cs");
        File.WriteAllText(sensor, Declarations.Sensor);
        File.WriteAllText(denoising, Declarations.Denoising);
        Assert.Equal(0, _tool.Run("export", "--model", sensor, "--out", _tool.PathOf("s.g.cs")).ExitCode);
        Assert.Equal(0, _tool.Run("train", "--model", sensor, "--data", WriteSensor(), "--epochs", "1", "--no-plots", "--out", _tool.PathOf("s.eaw")).ExitCode);
        Assert.Equal(0, _tool.Run("train", "--model", denoising, "--epochs", "1", "--no-plots", "--out", _tool.PathOf("d.eaw")).ExitCode);
        string[] entries = Directory.GetFiles(_tool.CacheFolder, "*.model");
        Assert.Equal(2, entries.Length);
        string denoisingEntry = entries.Single(e => e != SensorEntry(entries));
        File.Copy(SensorEntry(entries), denoisingEntry, overwrite: true);

        ToolRun run = _tool.Run("train", "--model", denoising, "--epochs", "1", "--no-plots", "--out", _tool.PathOf("d.eaw"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("the entry was built for another declaration", run.Error);
        Assert.Contains("model: DenoisingAe", run.Output);
        Assert.Contains("model: DenoisingAe from", _tool.Run("train", "--model", denoising, "--epochs", "1", "--no-plots", "--out", _tool.PathOf("d.eaw")).Output);

        byte[] bytes = File.ReadAllBytes(denoisingEntry);
        bytes[^100] ^= 0xFF;
        File.WriteAllBytes(denoisingEntry, bytes);
        ToolRun corrupt = _tool.Run("train", "--model", denoising, "--epochs", "1", "--no-plots", "--out", _tool.PathOf("d.eaw"));
        Assert.True(corrupt.ExitCode == 0, corrupt.ToString());
        Assert.Contains("content hash does not match", corrupt.Error);

        string SensorEntry(string[] all) => all.Single(e => File.ReadAllBytes(e).AsSpan().IndexOf("SensorAe"u8) >= 0);
    }

    [Fact]
    public void Verbose_says_where_a_first_build_spends_its_time()
    {
        // Point 15: the breakdown docs/cli.md reports comes from this line.
        string model = _tool.PathOf("Denoising.cs");
        File.WriteAllText(model, Declarations.Denoising.Replace("DenoisingAe", "TimedAe", StringComparison.Ordinal));
        ToolRun run = _tool.Run("train", "--model", model, "--epochs", "1", "--no-plots", "--out", _tool.PathOf("t.eaw"), "--verbose");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"model build: parse and run the generator [\d.]+ s \([\d,]+ lines with the generated code\), compile and emit \(optimised\) [\d.]+ s, load [\d.]+ s", run.Output);
    }

    private string WriteSensor()
    {
        string path = _tool.PathOf("sensor.csv");
        File.WriteAllLines(path, Enumerable.Range(0, 50).Select(r => string.Join(',', Enumerable.Range(0, 12).Select(c => ((r * 7 + c * 3) % 11).ToString(System.Globalization.CultureInfo.InvariantCulture)))));
        return path;
    }
}
