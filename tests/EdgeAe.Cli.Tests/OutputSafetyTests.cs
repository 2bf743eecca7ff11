namespace EdgeAe.Cli.Tests;

/// <summary>
/// Issue 13 points 1, 2, 5, 7 and the path messages of 16, through the real executable: an output is never an input,
/// every output is checked before any work and written atomically, and a failed command leaves what was there.
/// </summary>
public sealed class OutputSafetyTests : IDisposable
{
    private readonly RealTool _tool = new();

    public void Dispose() => _tool.Dispose();

    [Fact]
    public void An_output_that_is_an_input_is_refused_before_any_work_naming_both_options()
    {
        // Point 1: compress --weights m.eaw --out m.eaw replaced the model with packets; decompress --in p --out p left 0 bytes.
        // Naming one file as input and output is a usage error (exit 2), as for every command (import included).
        string weights = Train("m.eaw", "--code-bits", "8");
        string data = _tool.DigitsCsv("d.csv", 300);
        Assert.Equal(0, _tool.Run("compress", "--weights", weights, "--out", _tool.PathOf("p.bin")).ExitCode);
        File.CreateSymbolicLink(_tool.PathOf("link.csv"), data);
        RealTool.HardLink(data, _tool.PathOf("hard.csv"));
        File.Copy(data, _tool.PathOf("v.last.eaw"));
        string before = Snapshot();

        AssertRefused(_tool.Run("compress", "--weights", "m.eaw", "--out", "m.eaw"), "--out m.eaw is the same file as --weights m.eaw", exitCode: 2);
        AssertRefused(_tool.Run("decompress", "--weights", "m.eaw", "--in", "p.bin", "--out", "./p.bin"), "--out ./p.bin is the same file as --in p.bin", exitCode: 2);
        AssertRefused(_tool.Run("encode", "--weights", "m.eaw", "--data", "d.csv", "--out", _tool.PathOf("d.csv")), "is the same file as --data d.csv", exitCode: 2);
        AssertRefused(_tool.Run("compress", "--weights", "m.eaw", "--data", "link.csv", "--out", "d.csv"), "--out d.csv is the same file as --data link.csv", exitCode: 2);
        AssertRefused(_tool.Run("reconstruct", "--weights", "m.eaw", "--data", "d.csv", "--out", "hard.csv"), "--out hard.csv is the same file as --data d.csv", exitCode: 2);
        AssertRefused(_tool.Run("export", "--weights", "m.eaw", "--out", "m.eaw"), "--out m.eaw is the same file as --weights m.eaw", exitCode: 2);
        AssertRefused(_tool.Run("train", "--data", "d.csv", "--out", "d.csv", "--no-plots"), "--out d.csv is the same file as --data d.csv", exitCode: 2);
        AssertRefused(_tool.Run("train", "--data", "d.csv", "--validation", "v.last.eaw", "--out", "v.eaw", "--no-plots"), "--out (its .last.eaw checkpoint)", exitCode: 2);
        AssertRefused(_tool.Run("export", "--weights", "m.eaw", "--onnx", "m.eaw"), "--onnx m.eaw is the same file as --weights m.eaw", exitCode: 2);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public void The_weight_file_a_declaration_bakes_is_an_input_too()
    {
        // export --model M.cs --out digits.eaw, where M.cs bakes Weights = "digits.eaw" found beside it, replaced the
        // trained weights with C# source: the command reads that file, so writing it destroys an input.
        Train("digits.eaw");
        File.Copy(_tool.PathOf("digits.eaw"), _tool.PathOf("other.eaw"));
        File.WriteAllText(_tool.PathOf("Baked.cs"),
            "[Autoencoder(Input = 64, Weights = \"digits.eaw\")]\n[Code(16, Activation.Sigmoid)]\n[Output(Activation.Sigmoid)]\npublic partial class BakedAe;\n");
        string before = Snapshot();

        const string Baked = "the weight file digits.eaw that --model Baked.cs bakes (Weights = \"digits.eaw\")";
        AssertRefused(_tool.Run("export", "--model", "Baked.cs", "--target", "nanoframework", "--out", "digits.eaw"), "--out digits.eaw is the same file as " + Baked, exitCode: 2);
        AssertRefused(_tool.Run("export", "--model", "Baked.cs", "--weights", "digits.eaw", "--out", "./digits.eaw"), "--out ./digits.eaw is the same file as", exitCode: 2);
        AssertRefused(_tool.Run("quantize", "--model", "Baked.cs", "--weights", "other.eaw", "--out", "digits.eaw"), "--out digits.eaw is the same file as " + Baked, exitCode: 2);
        Assert.Equal(before, Snapshot());

        // Another output beside them is fine.
        ToolRun export = _tool.Run("export", "--model", "Baked.cs", "--target", "nanoframework", "--out", "Baked.g.cs");
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains("public const bool HasBakedWeights = true;", File.ReadAllText(_tool.PathOf("Baked.g.cs")));
    }

    [Fact]
    public void A_decompress_that_fails_at_packet_1000_leaves_the_previous_output_exactly_as_it_was()
    {
        // Point 2: a failed decompress left a 1000-row CSV where a good 1797-row file stood.
        string weights = Train("m.eaw", "--code-bits", "8");
        Assert.Equal(0, _tool.Run("compress", "--weights", weights, "--out", "p.bin").ExitCode);
        Assert.Equal(0, _tool.Run("decompress", "--weights", weights, "--in", "p.bin", "--out", "recon.csv").ExitCode);
        byte[] good = File.ReadAllBytes(_tool.PathOf("recon.csv"));
        Assert.Equal(1797, File.ReadAllLines(_tool.PathOf("recon.csv")).Length);

        byte[] packets = File.ReadAllBytes(_tool.PathOf("p.bin"));
        packets[(1000 * 20) + 3] ^= 0xFF;
        File.WriteAllBytes(_tool.PathOf("bad.bin"), packets);
        ToolRun run = _tool.Run("decompress", "--weights", weights, "--in", "bad.bin", "--out", "recon.csv");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("packet 1000", run.Error);
        Assert.Contains("was not written", run.Error);
        Assert.Equal(good, File.ReadAllBytes(_tool.PathOf("recon.csv")));
        Assert.Empty(Directory.GetFiles(_tool.Folder, "*.tmp"));
    }

    [Fact]
    public void Outputs_are_checked_before_training_starts()
    {
        // Point 5 and the path messages of point 16: each used to fail only after the whole training, or with a raw
        // "Access denied", "already exists" or "unexpected error: The value cannot be an empty string".
        Directory.CreateDirectory(_tool.PathOf("dir"));
        File.WriteAllText(_tool.PathOf("afile"), "x");
        string weights = Train("m.eaw", "--code-bits", "8");
        Assert.Equal(0, _tool.Run("compress", "--weights", weights, "--out", "p.bin").ExitCode);

        AssertFailsBeforeTraining(_tool.Run("train", "--no-plots", "--out", "dir"), "cannot write --out", "it is a folder");
        AssertFailsBeforeTraining(_tool.Run("train", "--no-plots", "--out", "afile/x.eaw"), "cannot write --out", "is a file, not a folder");
        AssertFailsBeforeTraining(_tool.Run("train", "--no-plots", "--out", "/proc/edgeae.eaw"), "cannot write --out /proc/edgeae.eaw", "is not writable");
        ToolRun empty = _tool.Run("train", "--no-plots", "--out", "");
        Assert.True(empty.ExitCode == 2, empty.ToString());
        Assert.Contains("invalid value '' for --out (the path is empty)", empty.Error);
        Assert.DoesNotContain("unexpected error", empty.Error);

        AssertRefused(_tool.Run("compress", "--weights", weights, "--out", "dir"), "cannot write --out dir: it is a folder");
        AssertRefused(_tool.Run("decompress", "--weights", weights, "--in", "p.bin", "--out", "dir"), "cannot write --out dir: it is a folder");
        AssertRefused(_tool.Run("export", "--out", "dir"), "cannot write --out dir: it is a folder");
        AssertRefused(_tool.Run("eval", "--weights", "dir"), "--weights dir is a folder, not a weight file");
        AssertRefused(_tool.Run("train", "--data", "dir", "--no-plots"), "--data dir is a folder, not a data file");

        // A missing folder is created when the command writes (and only then).
        ToolRun nested = _tool.Run("train", "--epochs", "1", "--no-plots", "--out", "new/folder/m.eaw");
        Assert.True(nested.ExitCode == 0, nested.ToString());
        Assert.True(File.Exists(_tool.PathOf("new/folder/m.eaw")));
        Assert.False(File.Exists(_tool.PathOf("new/folder/m.eaw.lock")));
    }

    [Fact]
    public void Stale_temporaries_of_a_killed_save_are_removed_by_the_next_save()
    {
        // Point 7: a process killed during a save left hidden .<name>.<guid>.tmp files of 2–13 MB.
        File.WriteAllBytes(_tool.PathOf(".m.eaw.0123456789abcdef0123456789abcdef.tmp"), new byte[3_000_000]);
        File.WriteAllBytes(_tool.PathOf(".m.last.eaw.fedcba9876543210fedcba9876543210.tmp"), new byte[100]);
        File.WriteAllBytes(_tool.PathOf(".other.eaw.0123456789abcdef0123456789abcdef.tmp"), new byte[10]);
        Train("m.eaw");
        Assert.Equal([".other.eaw.0123456789abcdef0123456789abcdef.tmp"], Directory.GetFiles(_tool.Folder, "*.tmp").Select(Path.GetFileName));
    }

    private string Train(string output, params string[] more)
    {
        ToolRun run = _tool.Run(["train", "--epochs", "2", "--no-plots", "--out", output, .. more]);
        Assert.True(run.ExitCode == 0, run.ToString());
        return _tool.PathOf(output);
    }

    private static void AssertRefused(ToolRun run, string message, int exitCode = 1)
    {
        Assert.True(run.ExitCode == exitCode, run.ToString());
        string[] lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, run.ToString());
        Assert.StartsWith("edgeae: ", lines[0]);
        Assert.Contains(message, lines[0]);
    }

    private static void AssertFailsBeforeTraining(ToolRun run, params string[] messages)
    {
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.DoesNotContain("Training ", run.Output);
        Assert.DoesNotContain("epoch", run.Output);
        foreach (string message in messages)
        {
            Assert.Contains(message, run.Error);
        }
    }

    /// <summary>Every file of the folder with its bytes' hash.</summary>
    private string Snapshot()
        => string.Join('\n', Directory.GetFiles(_tool.Folder).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetFileName(f)} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}"));
}
